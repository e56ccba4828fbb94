// The nested module path lets this package import the random provider's internal/provider
// package: in module mode Go checks the internal rule by import path, and this path lies under
// github.com/terraform-providers/terraform-provider-random/. The parent module is replaced with
// the served hashicorp pseudo-version in ../go.mod (the main module, which decides).
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25.8

require github.com/terraform-providers/terraform-provider-random v1.3.2-0.20260824155315-e1092b0cfc07

replace github.com/terraform-providers/terraform-provider-random => github.com/hashicorp/terraform-provider-random v1.3.2-0.20260824155315-e1092b0cfc07
