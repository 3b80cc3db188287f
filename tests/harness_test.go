// Package tests holds the integration tests: the real pulumi CLI, Go language host and
// kubernetes provider against the sim control plane (a real kube-apiserver, controllers and
// scheduler; kwok nodes). `make test` runs them inside a loopback-only network namespace;
// they start and stop the control plane themselves. Assertions read the API server, not
// Pulumi's own report.
package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spaceone-pulumi/spaceone/components/stores"
)

var (
	root       string // the checkout
	simDir     string // sim control plane state (kubeconfig, pki, logs)
	kubectlBin string
	enabled    = os.Getenv("SPACEONE_INTEGRATION") == "1"
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	if !enabled {
		fmt.Println("integration tests skipped: run them with `make test` (they need the toolchain and an isolated network namespace)")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "spaceone-sim-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simDir = dir
	kubectlBin = toolPath("KUBE_DIR") + "/kubectl"
	if out, err := sim("up"); err != nil {
		fmt.Fprintf(os.Stderr, "starting the sim control plane: %v\n%s", err, out)
		sim("down")
		os.Exit(1)
	}
	code := m.Run()
	if out, err := sim("down"); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the sim control plane: %v\n%s", err, out)
	}
	os.RemoveAll(simDir)
	os.Exit(code)
}

func sim(action string) (string, error) {
	cmd := exec.Command(filepath.Join(root, "scripts/sim.sh"), action)
	cmd.Env = append(os.Environ(), "SIM_NETNS=current", "SIM_DIR="+simDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// toolPath reads one of the cache paths that scripts/versions.sh defines.
func toolPath(name string) string {
	out, err := exec.Command("bash", "-c", ". "+filepath.Join(root, "scripts/versions.sh")+" && echo $"+name).Output()
	if err != nil {
		panic(fmt.Sprintf("reading %s from scripts/versions.sh: %v", name, err))
	}
	return strings.TrimSpace(string(out))
}

// pluginCache is the Pulumi plugin cache make tools installs the kubernetes provider into: that
// of the Pulumi home the scripts use (scripts/env.sh), Pulumi's default when none is set.
func pluginCache() string {
	home := os.Getenv("PULUMI_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".pulumi")
	}
	return filepath.Join(home, "plugins")
}

func needSim(t *testing.T) {
	t.Helper()
	if !enabled {
		t.Skip("integration test: run with `make test`")
	}
}

// kubectl runs the built kubectl against the sim as cluster admin.
func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(kubectlBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(simDir, "admin.kubeconfig"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// project is a throwaway copy of the program (symlinks to the sources) with its own file
// backend and stack configuration, so tests never touch the checkout's stacks or state.
type project struct {
	dir   string
	stack string
	env   []string
}

func newProject(t *testing.T, stack string, config string) *project {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "main.go", "go.mod", "go.sum", "components"} {
		if err := os.Symlink(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	// Its own Pulumi home, with the plugin cache make tools installed the provider into.
	must(t, os.MkdirAll(filepath.Join(dir, "home"), 0o755))
	must(t, os.Symlink(pluginCache(), filepath.Join(dir, "home", "plugins")))
	must(t, os.MkdirAll(filepath.Join(dir, "state"), 0o755))
	// The kubernetes provider copies a given kubeconfig into a temporary file at every start
	// and never removes it (for Helm; provider.go, writeKubeconfigToFile): in the project's
	// own temporary directory those copies go with the test.
	must(t, os.MkdirAll(filepath.Join(dir, "tmp"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+stack+".yaml"), []byte(config), 0o644))
	p := &project{dir: dir, stack: stack}
	p.env = append(os.Environ(),
		"PULUMI_BACKEND_URL=file://"+filepath.Join(dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE=integration-test",
		"PULUMI_CONFIG_PASSPHRASE_FILE=",
		"PULUMI_HOME="+filepath.Join(dir, "home"),
		"TMPDIR="+filepath.Join(dir, "tmp"),
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"KUBECONFIG=",
		// As make up builds a local stack's program: without the AWS SDKs.
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -tags=noeks"),
	)
	p.run(t, "stack", "init", stack)
	// As make up does: the credential seed generated passwords are derived from.
	p.script(t, "seed.sh", stack)
	// A failed test must not leave its objects to the next one (they share the sim).
	t.Cleanup(func() {
		if t.Failed() {
			p.try(t, "destroy", "--yes", "--skip-preview")
			clearSim(t)
		}
	})
	return p
}

// simStackConfig is stacks/Pulumi.sim.yaml with the kubeconfig of this test's control plane.
// simRelease is the release of simStackConfig: 1.10.4 (with Consul), the release the sim tests
// were written against; realStackConfig swaps it.
const simRelease = "1.10.4"

func simStackConfig() string {
	return fmt.Sprintf(`config:
  spaceone:release: `+simRelease+`
  spaceone:clusterType: local
  spaceone:kubeconfig: %s
  spaceone:stores:
    storageClass: sim-local
    mongodb: {size: 1Gi}
    redis: {size: 1Gi}
    consul: {size: 1Gi}
`, filepath.Join(simDir, "admin.kubeconfig"))
}

func (p *project) try(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return p.tryWithin(t, 0, args...)
}

// tryWithin is try with a bound (zero: none): past it, pulumi is interrupted as by a user's
// Ctrl-C (it cancels its operations and saves its state), killed a minute later, and the
// error says it did not return in time.
func (p *project) tryWithin(t *testing.T, bound time.Duration, args ...string) (string, error) {
	t.Helper()
	if args[0] != "stack" && args[0] != "config" {
		args = append(args, "--stack", p.stack)
	}
	args = append(args, "--non-interactive")
	ctx := context.Background()
	if bound > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, bound)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "pulumi", args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.Dir = p.dir
	cmd.Env = p.env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	t.Logf("pulumi %s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	if ctx.Err() != nil {
		err = fmt.Errorf("pulumi %s did not return within %s: %w", args[0], bound, err)
	}
	return buf.String(), err
}

func (p *project) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.try(t, args...)
	if err != nil {
		t.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// script runs one of the checkout's scripts (scripts/<name>) against this project, as make
// does for the checkout itself, and returns its output; it fails the test if the script does.
func (p *project) script(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "scripts", name), args...)
	cmd.Env = append(p.env, "SPACEONE_PROJECT_DIR="+p.dir)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// devConnectPrint runs `scripts/dev-connect.sh <stack> --print` against this project.
func (p *project) devConnectPrint(t *testing.T) string {
	return p.script(t, "dev-connect.sh", p.stack, "--print")
}

// mongoRootPassword is the MongoDB root password as stored in the cluster.
func mongoRootPassword(t *testing.T) string {
	t.Helper()
	return string(get(t, api(t).CoreV1().Secrets(spaceoneNS).Get, stores.MongoDBRootSecret).Data["password"])
}

// identityReady is the identity Deployment's ready replica count.
func identityReady(t *testing.T) int32 {
	t.Helper()
	return get(t, api(t).AppsV1().Deployments(spaceoneNS).Get, "identity").Status.ReadyReplicas
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not base64: %q", s)
	}
	return string(b)
}

// clearSim removes what a failed test left in the sim, so the next test starts clean.
func clearSim(t *testing.T) {
	t.Helper()
	kubectl(t, "delete", "namespace", spaceoneNS, pluginNS, "--ignore-not-found", "--wait=true", "--timeout=120s")
	if out, err := sim("volumes"); err != nil {
		t.Logf("sim volumes: %v\n%s", err, out)
	}
}
