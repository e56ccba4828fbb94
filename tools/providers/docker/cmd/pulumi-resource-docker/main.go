// pulumi-resource-docker is the resource provider plugin the Pulumi engine starts for
// @pulumi/docker. scripts/install-providers.sh runs pulumi-tfgen-docker first, which writes
// schema.json and bridge-metadata.json into this directory of its build copy (outside the
// repository: nothing generated is checked in), and then builds this package.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"db-tier/tools/providers/docker/provider"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	tfbridge.Main("docker", provider.Version, provider.Provider(metadata), schema)
}
