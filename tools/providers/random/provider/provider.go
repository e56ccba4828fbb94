// Package provider is db-tier's tfbridge.ProviderInfo for terraform-provider-random: the resource
// tokens and property names the npm package @pulumi/random (node_modules) sends, written here
// against that SDK's .d.ts files (tools/providers/check-schema.cjs compares them).
package provider

import (
	"context"
	"errors"
	"strings"
	"unicode"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is the plugin version: what @pulumi/random's package.json "pulumi" field asks for.
var Version = "4.21.2"

const pkg = "random"

// tokenOf maps random_<snake> to "random:index/random<Camel>:Random<Camel>", as the SDK's
// files go (randomPassword.ts, randomBytes.ts, randomUuid4.ts, ...).
func tokenOf(tfName string) tokens.Type {
	name := "Random" + camel(strings.TrimPrefix(tfName, "random_"))
	return tokens.Type(pkg + ":index/" + lowerFirst(name) + ":" + name)
}

func camel(snake string) string {
	var b strings.Builder
	for _, part := range strings.Split(snake, "_") {
		if part != "" {
			b.WriteString(upperFirst(part))
		}
	}
	return b.String()
}

func upperFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// Provider builds the ProviderInfo. metadata is the bridge metadata tfgen wrote next to the
// schema (nil while tfgen itself runs).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(shim.NewProvider()),
		Name:         pkg,
		Version:      Version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs (built by db-tier)",
		Keywords:     []string{"pulumi", "random"},
		License:      "Apache-2.0",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources:    map[string]*tfbridge.ResourceInfo{},
	}
	for _, name := range []string{
		"random_bytes", "random_id", "random_integer", "random_password", "random_pet",
		"random_shuffle", "random_string", "random_uuid", "random_uuid4", "random_uuid7",
	} {
		info.Resources[name] = &tfbridge.ResourceInfo{Tok: tokenOf(name)}
	}
	// random_bytes has no "id" attribute: its ID is the base64 form of the bytes.
	info.Resources["random_bytes"].ComputeID = idFromBase64
	return info
}

func idFromBase64(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes: the state has no base64 property to take the ID from")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", errors.New("random_bytes: base64 is not a string")
	}
	return resource.ID(v.StringValue()), nil
}
