package tests

import (
	"encoding/base64"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// TestRenderedManifestsAreAcceptedByTheAPIServer: `make render STACK=minikube` writes YAML that
// a real kube-apiserver accepts (server-side dry run), with no cluster needed to render.
func TestRenderedManifestsAreAcceptedByTheAPIServer(t *testing.T) {
	needSim(t)
	files := rendered(t, "minikube")
	// Namespaces must exist for a dry run of the objects inside them: create those for real.
	var rest []string
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "-namespace-") {
			mustKubectl(t, "apply", "--server-side", "-f", f)
			defer kubectl(t, "delete", "-f", f, "--wait=false")
			continue
		}
		rest = append(rest, f)
	}
	for _, f := range rest {
		if o, err := kubectl(t, "apply", "--server-side", "--dry-run=server", "-f", f); err != nil {
			b, _ := os.ReadFile(f)
			t.Errorf("API server rejects %s: %v\n%s\n%s", filepath.Base(f), err, o, b)
		}
	}
}

// TestUpWithoutMinikubeFailsFast: on a machine with no minikube context, `make up` stops within
// seconds and says what to do.
func TestUpWithoutMinikubeFailsFast(t *testing.T) {
	needSim(t)
	cmd := exec.Command("make", "-s", "up")
	cmd.Dir = root
	// A home of its own hides the machine's kubeconfig and tools; Go keeps its caches (make up
	// asks cmd/stackcluster where the stack deploys, which the namespace cannot download).
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "HOME="+t.TempDir(),
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"))
	start := time.Now()
	b, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err == nil {
		t.Fatalf("make up succeeded without a minikube context:\n%s", b)
	}
	msg := string(b)
	for _, want := range []string{"'minikube'", "minikube start", "make up STACK=sim"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if took > 30*time.Second {
		t.Errorf("make up took %s to fail; want seconds", took)
	}
}

// TestRenderWithSecrets: `make render` works for a stack that holds secrets (as every stack
// does after its first `make up`), and no rendered file holds one.
func TestRenderWithSecrets(t *testing.T) {
	needSim(t)
	const stack, password = "zz-render-secrets", `Render-Secr3t!pw`
	stackFile := filepath.Join(root, "stacks", "Pulumi."+stack+".yaml")
	must(t, os.WriteFile(stackFile, []byte("config:\n  spaceone:clusterType: local\n  spaceone:kubeContext: minikube\n"), 0o644))
	sh := func(script string, stdin string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", ". scripts/env.sh && "+script)
		cmd.Dir, cmd.Stdin = root, strings.NewReader(stdin)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, b)
		}
	}
	t.Cleanup(func() {
		// In the checkout (the script's path is relative to it): run from anywhere else, the
		// stack stayed in the checkout's state and the next run's stack init failed.
		rm := exec.Command("bash", "-c", ". scripts/env.sh && pulumi stack rm --yes --force --preserve-config "+stack)
		rm.Dir = root
		if b, err := rm.CombinedOutput(); err != nil {
			t.Errorf("removing stack %s: %v\n%s", stack, err, b)
		}
		os.Remove(stackFile)
	})
	sh("pulumi stack init "+stack+" --non-interactive", "")
	sh("pulumi config set --secret adminPassword --stack "+stack+" --non-interactive", password)
	if b, _ := os.ReadFile(stackFile); !strings.Contains(string(b), "encryptionsalt:") || strings.Contains(string(b), password) {
		t.Fatalf("the stack file does not hold the secret encrypted:\n%s", b)
	}
	out := t.TempDir()
	cmd := exec.Command("make", "-s", "render", "STACK="+stack, "OUT="+out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make render of a stack with a secret: %v\n%s", err, b)
	}
	files, _ := filepath.Glob(filepath.Join(out, "1-manifest", "*.yaml"))
	if len(files) < 50 {
		t.Fatalf("make render wrote %d manifests", len(files))
	}
	secrets := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		text := string(b)
		if strings.Contains(text, password) || strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(password))) {
			t.Errorf("%s holds the admin password", filepath.Base(f))
		}
		// A Secret with data (not the API key's, created empty for the initializer to fill,
		// which the default release 1.12.12 renders) holds it redacted.
		if strings.Contains(text, "\nkind: Secret\n") && strings.Contains(text, "\ndata:") {
			secrets++
			if !strings.Contains(text, "cmVkYWN0ZWQ=") {
				t.Errorf("%s: a Secret whose data is not redacted:\n%s", filepath.Base(f), text)
			}
		}
	}
	if secrets == 0 {
		t.Error("no Secret rendered: the check above proves nothing")
	}
}

// TestRenderHasAServicePerService: `make render` of each release writes, for every gRPC service
// the catalogue enables, a Service of the service's name on the gRPC port, which every other
// config names (1.12.12 once rendered none for its three token-consuming gRPC servers).
func TestRenderHasAServicePerService(t *testing.T) {
	needSim(t)
	for _, version := range catalog.Versions() {
		t.Run(version, func(t *testing.T) {
			stack := "minikube"
			if version != settings.DefaultRelease {
				stack += "@" + version
			}
			ports := map[string][]int{}
			for _, f := range rendered(t, stack) {
				b, err := os.ReadFile(f)
				must(t, err)
				var obj struct {
					Kind     string
					Metadata struct{ Name, Namespace string }
					Spec     struct{ Ports []struct{ Port int } }
				}
				if err := yaml.Unmarshal(b, &obj); err != nil {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
				if obj.Kind == "Service" && obj.Metadata.Namespace == "spaceone" {
					for _, p := range obj.Spec.Ports {
						ports[obj.Metadata.Name] = append(ports[obj.Metadata.Name], p.Port)
					}
				}
			}
			for _, svc := range expect(t, version).Services {
				if !slices.Contains(ports[svc], catalog.GRPCPort) {
					t.Errorf("no Service %s on port %d in the render (Services: %v)", svc, catalog.GRPCPort, slices.Sorted(maps.Keys(ports)))
				}
			}
		})
	}
}

// goEnv is one of the go command's settings (go env NAME).
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
