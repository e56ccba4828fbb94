// pulumi-tfgen-docker writes the Pulumi package schema (schema.json) and the bridge metadata
// (bridge-metadata.json) of db-tier's docker provider:
//
//	pulumi-tfgen-docker schema --skip-docs --skip-examples --out DIR
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"db-tier/tools/providers/docker/provider"
)

func main() {
	tfgen.Main("docker", provider.Version, provider.Provider(nil))
}
