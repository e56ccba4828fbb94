// Package provider is db-tier's tfbridge.ProviderInfo for terraform-provider-docker: the
// resource tokens and property names the npm package @pulumi/docker (node_modules) sends,
// written here against that SDK's .d.ts files (tools/providers/check-schema.cjs compares them).
package provider

import (
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Version is the plugin version: what @pulumi/docker's package.json "pulumi" field asks for.
// Set by scripts/install-providers.sh through -ldflags -X (the default keeps tfgen honest).
var Version = "5.2.0"

const pkg = "docker"

// tokenOf makes "docker:index/<name with a lower-case first letter>:<Name>", as the SDK's file
// names go (container.ts, remoteImage.ts, ...).
func tokenOf(name string) tokens.Type {
	return tokens.Type(pkg + ":index/" + lowerFirst(name) + ":" + name)
}

// function makes the token of a data source: "docker:index/getNetwork:getNetwork".
func function(name string) tokens.ModuleMember {
	return tokens.ModuleMember(pkg + ":index/" + name + ":" + name)
}

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// Provider builds the ProviderInfo. metadata is the bridge metadata tfgen wrote next to the
// schema (nil while tfgen itself runs: it starts from an empty set).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(shim.NewProvider(Version)),
		Name:         pkg,
		Version:      Version,
		Description:  "A Pulumi package for interacting with Docker in Pulumi programs (built by db-tier)",
		Keywords:     []string{"pulumi", "docker"},
		License:      "Apache-2.0",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {
				Default: &tfbridge.DefaultInfo{
					Value:   "unix:///var/run/docker.sock",
					EnvVars: []string{"DOCKER_HOST"},
				},
			},
			// A set of blocks, kept singular in the SDK: registryAuth?: ProviderRegistryAuth[].
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: tokenOf("Container"),
				// A container has a fixed name: the old one must go before its replacement starts.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// One command line, not a list of commands: command?: string[].
					"command": {Name: "command"},
					// Not pluralised in the SDK: networksAdvanced?: ContainerNetworksAdvanced[].
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image":          {Tok: tokenOf("RemoteImage"), Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}},
			"docker_registry_image": {Tok: tokenOf("RegistryImage")},
			"docker_network":        {Tok: tokenOf("Network")},
			"docker_volume":         {Tok: tokenOf("Volume")},
			"docker_config":         {Tok: tokenOf("ServiceConfig")},
			"docker_secret":         {Tok: tokenOf("Secret")},
			"docker_service":        {Tok: tokenOf("Service")},
			"docker_plugin":         {Tok: tokenOf("Plugin")},
			"docker_tag":            {Tok: tokenOf("Tag")},
			"docker_buildx_builder": {Tok: tokenOf("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_registry_image":           {Tok: function("getRegistryImage")},
			"docker_network":                  {Tok: function("getNetwork")},
			"docker_plugin":                   {Tok: function("getPlugin")},
			"docker_image":                    {Tok: function("getRemoteImage")},
			"docker_logs":                     {Tok: function("getLogs")},
			"docker_registry_image_manifests": {Tok: function("getRegistryImageManifests")},
		},
	}
	// Resources without an explicit name get "<logical name>-<7 random chars>", at most 255.
	info.SetAutonaming(255, "-")
	return info
}
