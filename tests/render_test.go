package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "HOME="+t.TempDir())
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
