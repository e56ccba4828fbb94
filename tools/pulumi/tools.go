//go:build tools

// The Pulumi CLI, built from its Go module at the version of the @pulumi/pulumi npm package
// (scripts/install-pulumi.sh). This file only pins the module in go.mod/go.sum.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
