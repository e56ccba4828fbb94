// Package shim exposes terraform-provider-random (plugin framework) to db-tier's bridged
// provider (tools/providers/random/provider).
package shim

import (
	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"

	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the Terraform provider's plugin-framework provider.
func NewProvider() tfpf.Provider {
	return provider.New()
}
