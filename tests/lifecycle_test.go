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
	// Every Deployment of the platform is ready (kwok makes pods Ready; the scheduler placed them).
	deps := mustKubectl(t, "-n", "spaceone", "get", "deployments", "-o",
		`jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas}/{.spec.replicas}{"\n"}{end}`)
	lines := strings.Fields(deps)
	if len(lines) < 16 {
		t.Errorf("only %d Deployments in namespace spaceone:\n%s", len(lines), deps)
	}
	for _, l := range lines {
		name, ratio, _ := strings.Cut(l, "=")
		if r := strings.Split(ratio, "/"); len(r) != 2 || r[0] != r[1] {
			t.Errorf("deployment %s not ready: %s", name, ratio)
		}
	}
	firstInstallChecks(t)

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
	left := mustKubectl(t, "get", "all,configmaps,secrets,roles,rolebindings,serviceaccounts,ingresses", "-A",
		"-l", "app.kubernetes.io/part-of=spaceone", "-o", "name")
	if strings.TrimSpace(left) != "" {
		t.Errorf("objects left after destroy:\n%s", left)
	}
}

// firstInstallChecks: the initializer Job completed, the token consumers were created only
// after it, and the supervisor's account can do exactly what it needs, only in its namespace.
func firstInstallChecks(t *testing.T) {
	t.Helper()
	job := mustKubectl(t, "-n", "spaceone", "get", "jobs", "-l", "app.kubernetes.io/name=initializer", "-o",
		"jsonpath={.items[0].status.succeeded} {.items[0].status.completionTime}")
	succeeded, completed, _ := strings.Cut(job, " ")
	if succeeded != "1" || completed == "" {
		t.Fatalf("initializer Job did not complete: %q", job)
	}
	for _, c := range []struct{ ns, name string }{{"spaceone", "inventory-scheduler"}, {"spaceone", "inventory-worker"}, {"root-supervisor", "supervisor"}} {
		created := mustKubectl(t, "-n", c.ns, "get", "deployment", c.name, "-o", "jsonpath={.metadata.creationTimestamp}")
		if created < completed { // RFC 3339 UTC timestamps compare as strings
			t.Errorf("token consumer %s created at %s, before the initializer completed at %s", c.name, created, completed)
		}
	}
	sa := "system:serviceaccount:root-supervisor:supervisor"
	checks := []struct {
		verb, resource, ns string
		want               string
	}{
		{"create", "deployments.apps", "root-supervisor", "yes"},
		{"get", "deployments.apps", "root-supervisor", "yes"},
		{"delete", "deployments.apps", "root-supervisor", "yes"},
		{"create", "services", "root-supervisor", "yes"},
		{"list", "services", "root-supervisor", "yes"},
		{"delete", "services", "root-supervisor", "yes"},
		{"get", "endpoints", "root-supervisor", "yes"},
		{"update", "deployments.apps", "root-supervisor", "no"},
		{"list", "deployments.apps", "root-supervisor", "no"},
		{"get", "secrets", "root-supervisor", "no"},
		{"create", "pods", "root-supervisor", "no"},
		{"create", "roles.rbac.authorization.k8s.io", "root-supervisor", "no"},
		{"create", "deployments.apps", "spaceone", "no"},
		{"get", "services", "spaceone", "no"},
		{"get", "secrets", "spaceone", "no"},
		{"create", "deployments.apps", "default", "no"},
		{"list", "namespaces", "", "no"},
		{"list", "nodes", "", "no"},
	}
	for _, c := range checks {
		args := []string{"auth", "can-i", c.verb, c.resource, "--as", sa}
		if c.ns != "" {
			args = append(args, "-n", c.ns)
		}
		out, _ := kubectl(t, args...)                        // exit status 1 means "no"
		lines := strings.Split(strings.TrimSpace(out), "\n") // the answer is the last line, after any warning
		if got := lines[len(lines)-1]; got != c.want {
			t.Errorf("supervisor can-i %s %s -n %q = %q, want %q", c.verb, c.resource, c.ns, got, c.want)
		}
	}
}
