// The nested module path lets this package import the docker provider's internal/provider
// package: in module mode Go checks the internal rule by import path, and this path lies under
// github.com/terraform-providers/terraform-provider-docker/. The parent module is replaced with
// the served kreuzwerker pseudo-version in ../go.mod (the main module, which decides).
module github.com/terraform-providers/terraform-provider-docker/shim

go 1.25.8

require github.com/terraform-providers/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4

replace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4
