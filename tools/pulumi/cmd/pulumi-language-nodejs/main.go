// pulumi-language-nodejs: db-tier's own Node.js language host for the Pulumi engine.
//
// Pulumi's language host (sdk/nodejs/cmd/pulumi-language-nodejs in pulumi/pulumi) is not served
// by the Go module proxy this project builds from, and code fetched from elsewhere may not be
// committed here, so this is a small host written against the LanguageRuntime gRPC protocol of
// the SDK version the CLI is built at (proto/go in github.com/pulumi/pulumi/sdk/v3). It does only
// what `pulumi up|preview|destroy|refresh` and `--policy-pack` need:
//
//   - Run: starts `node @pulumi/pulumi/cmd/run` (the SDK's own runner, from the program's
//     node_modules) with the engine's monitor address, stack, project, config and dry-run flag;
//     TypeScript through the SDK's bundled ts-node when the project's `typescript` option is set.
//   - RunPlugin (kind "analyzer", a policy pack): starts `node @pulumi/pulumi/cmd/run-policy-pack` in the pack's
//     directory and streams its output back (the engine reads the analyzer's port from it).
//   - GetRequiredPackages / GetRequiredPlugins: the resource plugins that the installed npm
//     packages declare (package.json "pulumi": {"resource": true, "name", "version"}).
//   - GetPluginInfo / Handshake / About.
//
// Everything else (code generation, templates, packing) answers Unimplemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is the SDK version this host speaks for (set with -ldflags by the installer).
var version = "3.248.0"

// exitAfterLoggedError is the SDK runner's exit code when it already reported the error to the
// engine (cmd/run: nodeJSProcessExitedAfterLoggingUserActionableMessage): the engine then bails
// without printing a second, less useful error.
const exitAfterLoggedError = 32

func main() {
	// The engine passes its own flags (-tracing, -root, …) before the engine address, which is
	// always the last argument. Unknown flags are accepted and ignored.
	fs := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_ = fs.String("tracing", "", "")
	_ = fs.String("root", "", "")
	_ = fs.Parse(filterKnownFlags(os.Args[1:]))
	engine := ""
	if args := os.Args[1:]; len(args) > 0 && !strings.HasPrefix(args[len(args)-1], "-") {
		engine = args[len(args)-1]
	}
	host := &languageHost{engineAddress: engine}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// filterKnownFlags keeps only -tracing/-root (with their values) so that flag parsing never
// stops at a flag this host does not know.
func filterKnownFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-tracing") || strings.HasPrefix(a, "-root") {
			out = append(out, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
		}
	}
	return out
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *languageHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "node is not on PATH: %v", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "node --version: %v", err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// pluginDeclaration is the part of an npm package.json that names a Pulumi resource plugin.
type pluginDeclaration struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// requiredPackages lists the resource plugins declared by the packages installed in the
// node_modules that the program directory resolves (its own and every parent's).
func requiredPackages(programDir string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]bool{}
	var deps []*pulumirpc.PackageDependency
	for dir := programDir; ; dir = filepath.Dir(dir) {
		modules := filepath.Join(dir, "node_modules")
		manifests, _ := filepath.Glob(filepath.Join(modules, "*", "package.json"))
		scoped, _ := filepath.Glob(filepath.Join(modules, "@*", "*", "package.json"))
		for _, m := range append(manifests, scoped...) {
			raw, err := os.ReadFile(m)
			if err != nil {
				continue
			}
			var p pluginDeclaration
			if json.Unmarshal(raw, &p) != nil || !p.Pulumi.Resource {
				continue
			}
			name := p.Pulumi.Name
			if name == "" {
				name = strings.TrimPrefix(p.Name, "@pulumi/")
			}
			v := p.Pulumi.Version
			if v == "" {
				v = p.Version
			}
			v = strings.TrimPrefix(v, "v")
			if seen[name+"@"+v] {
				continue
			}
			seen[name+"@"+v] = true
			deps = append(deps, &pulumirpc.PackageDependency{Kind: "resource", Name: name, Version: v, Server: p.Pulumi.Server})
		}
		if filepath.Dir(dir) == dir {
			return deps, nil
		}
	}
}

func programDirectory(info *pulumirpc.ProgramInfo, pwd string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	return pwd
}

func (h *languageHost) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := requiredPackages(programDirectory(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *languageHost) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := requiredPackages(programDirectory(req.GetInfo(), req.GetPwd()))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(deps))
	for _, d := range deps {
		plugins = append(plugins, &pulumirpc.PluginDependency{Kind: d.Kind, Name: d.Name, Version: d.Version, Server: d.Server})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// resolveSDKScript finds @pulumi/pulumi/cmd/<name> in the node_modules that dir resolves.
func resolveSDKScript(dir, name string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(p, "index.js")); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("@pulumi/pulumi is not installed for %s (no node_modules/@pulumi/pulumi/cmd/%s above it): run npm ci", dir, name)
		}
	}
}

// typescriptOption reads the project's runtime option `typescript` (default true, as Pulumi's
// own host does).
func typescriptOption(info *pulumirpc.ProgramInfo) bool {
	if info == nil || info.GetOptions() == nil {
		return true
	}
	if v, ok := info.GetOptions().GetFields()["typescript"]; ok {
		return v.GetBoolValue()
	}
	return true
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := programDirectory(info, req.GetPwd())
	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	} else if req.GetProgram() != "" {
		entry = req.GetProgram()
	}
	runner, err := resolveSDKScript(programDir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := []string{runner, "--monitor", req.GetMonitorAddress(), "--engine", h.engineAddress,
		"--project", req.GetProject(), "--stack", req.GetStack(), "--pwd", req.GetPwd(),
		"--parallel", strconv.Itoa(int(req.GetParallel()))}
	if req.GetOrganization() != "" {
		args = append(args, "--organization", req.GetOrganization())
	}
	if info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescriptOption(info)),
	)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitAfterLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
}

// streamWriter sends what a plugin writes to the engine as RunPlugin messages.
type streamWriter struct {
	mu     *sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chunk := append([]byte(nil), p...)
	msg := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: chunk}}
	if w.stderr {
		msg = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: chunk}}
	}
	if err := w.server.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	// The engine asks for policy packs as kind "analyzer" (older engines: "policy").
	if k := req.GetKind(); k != "analyzer" && k != "policy" {
		return status.Errorf(codes.Unimplemented, "db-tier's language host runs policy packs only, not %q plugins", req.GetKind())
	}
	dir := programDirectory(req.GetInfo(), req.GetPwd())
	runner, err := resolveSDKScript(dir, "run-policy-pack")
	if err != nil {
		return err
	}
	// run-policy-pack takes the engine address, then the program (the pack's directory).
	args := append([]string{runner}, req.GetArgs()...)
	args = append(args, ".")
	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	mu := &sync.Mutex{}
	cmd.Stdout = streamWriter{mu: mu, server: server}
	cmd.Stderr = streamWriter{mu: mu, server: server, stderr: true}
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = -1
		} else {
			code = exit.ExitCode()
		}
	} else if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}
