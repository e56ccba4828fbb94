// pulumi-tfgen-random writes the Pulumi package schema (schema.json) and the bridge metadata
// (bridge-metadata.json) of db-tier's random provider:
//
//	pulumi-tfgen-random schema --skip-docs --skip-examples --out DIR
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"db-tier/tools/providers/random/provider"
)

func main() {
	pftfgen.Main("random", provider.Provider(nil))
}
