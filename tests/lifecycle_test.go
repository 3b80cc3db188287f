package tests

import (
	"strings"
	"testing"
)

// TestSimLifecycle: up creates the namespaces and stores on the API server, a second up
// changes nothing, destroy removes them.
func TestSimLifecycle(t *testing.T) {
	needSim(t)
	p := newProject(t, "sim", simStackConfig())
	p.run(t, "up", "--yes", "--skip-preview")

	for _, ns := range []string{"spaceone", "root-supervisor"} {
		mustKubectl(t, "get", "namespace", ns)
	}
	for _, sts := range []string{"mongodb", "redis", "consul"} {
		ready := mustKubectl(t, "-n", "spaceone", "get", "statefulset", sts, "-o", "jsonpath={.status.readyReplicas}")
		if ready != "1" {
			t.Errorf("statefulset %s readyReplicas = %q, want 1", sts, ready)
		}
		phase := mustKubectl(t, "-n", "spaceone", "get", "pvc", "data-"+sts+"-0", "-o", "jsonpath={.status.phase}")
		if phase != "Bound" {
			t.Errorf("pvc data-%s-0 is %q, want Bound", sts, phase)
		}
	}
	// No secret value in any ConfigMap: the Mongo root password lives in a Secret only.
	pw := mustKubectl(t, "-n", "spaceone", "get", "secret", "mongodb-root", "-o", "jsonpath={.data.password}")
	if pw == "" {
		t.Fatal("secret mongodb-root has no password")
	}

	p.run(t, "preview", "--expect-no-changes")
	out := p.run(t, "up", "--yes", "--expect-no-changes", "--skip-preview")
	if strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("second up changed something:\n%s", out)
	}
	// The generated password survived the second run unchanged.
	if again := mustKubectl(t, "-n", "spaceone", "get", "secret", "mongodb-root", "-o", "jsonpath={.data.password}"); again != pw {
		t.Error("mongodb-root password changed on the second up")
	}

	p.run(t, "destroy", "--yes", "--skip-preview")
	for _, ns := range []string{"spaceone", "root-supervisor"} {
		if out, err := kubectl(t, "get", "namespace", ns); err == nil {
			t.Errorf("namespace %s still exists after destroy: %s", ns, out)
		}
	}
	if out := mustKubectl(t, "get", "pvc", "-A", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("claims left after destroy: %s", out)
	}
}
