// Package shim exposes the SDKv2 half of terraform-provider-docker to db-tier's bridged
// provider (tools/providers/docker/provider).
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the Terraform provider's SDKv2 schema.Provider (containers, networks,
// volumes, images, services, ...). The plugin-framework half (compose, actions, the
// docker_containers data source) is not bridged: tools/providers/README.md.
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
