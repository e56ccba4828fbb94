// pulumi-resource-random is the resource provider plugin the Pulumi engine starts for
// @pulumi/random. scripts/install-providers.sh runs pulumi-tfgen-random first, which writes
// schema.json and bridge-metadata.json into this directory of its build copy (outside the
// repository: nothing generated is checked in), and then builds this package.
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"db-tier/tools/providers/random/provider"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pfbridge.Main(context.Background(), "random", provider.Provider(metadata),
		pfbridge.ProviderMetadata{PackageSchema: schema})
}
