package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimLifecycle: up creates the namespaces and stores on the API server, a second up
// changes nothing, destroy removes them.
func TestSimLifecycle(t *testing.T) {
	needSim(t)
	p := newProject(t, "sim", simStackConfig())
	exp := expect(t, simRelease)
	upOutput := p.run(t, "up", "--yes", "--skip-preview")

	for _, ns := range []string{"spaceone", "root-supervisor"} {
		mustKubectl(t, "get", "namespace", ns)
	}
	for _, sts := range exp.Stores {
		ready := mustKubectl(t, "-n", "spaceone", "get", "statefulset", sts, "-o", "jsonpath={.status.readyReplicas}")
		if ready != "1" {
			t.Errorf("statefulset %s readyReplicas = %q, want 1", sts, ready)
		}
		phase := mustKubectl(t, "-n", "spaceone", "get", "pvc", "data-"+sts+"-0", "-o", "jsonpath={.status.phase}")
		if phase != "Bound" {
			t.Errorf("pvc data-%s-0 is %q, want Bound", sts, phase)
		}
	}
	// Every Deployment the catalogue enables is there and ready (kwok makes pods Ready; the
	// scheduler placed them), and every service has its Service.
	deps := mustKubectl(t, "-n", "spaceone", "get", "deployments", "-o",
		`jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas}/{.spec.replicas}{"\n"}{end}`)
	ready := map[string]string{}
	for _, l := range strings.Fields(deps) {
		name, ratio, _ := strings.Cut(l, "=")
		ready[name] = ratio
	}
	for _, d := range exp.Deployments {
		ratio, ok := ready[d]
		if r := strings.Split(ratio, "/"); !ok || len(r) != 2 || r[0] != r[1] {
			t.Errorf("deployment %s not there or not ready: %q", d, ratio)
		}
	}
	clusterEndpoints(t, exp.Services) // an error for each service without its Service
	firstInstallChecks(t, exp)
	secretsStayHidden(t, p, upOutput)
	storePodComesBackWithItsData(t, p)

	// No secret value in any ConfigMap: the Mongo root password lives in a Secret only.
	pw := mongoRootPassword(t)
	if pw == "" {
		t.Fatal("secret mongodb-root has no password")
	}

	p.run(t, "preview", "--expect-no-changes")
	out := p.run(t, "up", "--yes", "--expect-no-changes", "--skip-preview")
	if strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("second up changed something:\n%s", out)
	}
	// The generated password survived the second run unchanged.
	if again := mongoRootPassword(t); again != pw {
		t.Error("mongodb-root password changed on the second up")
	}

	oneServiceChangeRollsOnlyIt(t, p, exp)

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
func firstInstallChecks(t *testing.T, exp expected) {
	t.Helper()
	job := mustKubectl(t, "-n", "spaceone", "get", "jobs", "-l", "app.kubernetes.io/name=initializer", "-o",
		"jsonpath={.items[0].status.succeeded} {.items[0].status.completionTime}")
	succeeded, completed, _ := strings.Cut(job, " ")
	if succeeded != "1" || completed == "" {
		t.Fatalf("initializer Job did not complete: %q", job)
	}
	// The token consumers (they read the key when they start; 1.10.4's workers do not).
	for _, c := range exp.Consumers {
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
		{"create", "clusterrolebindings.rbac.authorization.k8s.io", "", "no"},
	}
	// The services and the initializer run as their namespace's default account, which may do nothing.
	for _, acct := range []string{"system:serviceaccount:spaceone:default", "system:serviceaccount:root-supervisor:default"} {
		for _, c := range []struct{ verb, resource, ns string }{
			{"get", "secrets", "spaceone"}, {"list", "pods", "spaceone"}, {"create", "deployments.apps", "root-supervisor"},
			{"get", "configmaps", "spaceone"}, {"delete", "services", "root-supervisor"},
		} {
			out, _ := kubectl(t, "auth", "can-i", c.verb, c.resource, "-n", c.ns, "--as", acct)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if lines[len(lines)-1] != "no" {
				t.Errorf("%s can %s %s in %s", acct, c.verb, c.resource, c.ns)
			}
		}
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

// secretsStayHidden: the generated admin and MongoDB passwords are in no ConfigMap, not in the
// state file in clear, and not in the CLI's output.
func secretsStayHidden(t *testing.T, p *project, upOutput string) {
	t.Helper()
	adminPw := strings.TrimSpace(p.run(t, "stack", "output", "adminPassword", "--show-secrets", "--stack", p.stack))
	rootPw := decodeB64(t, mongoRootPassword(t))
	if len(adminPw) < 16 || len(rootPw) < 16 {
		t.Fatalf("generated passwords too short: %d, %d characters", len(adminPw), len(rootPw))
	}
	// The spaceone-admin Secret holds what the user types at the login (the output's value).
	stored := decodeB64(t, mustKubectl(t, "-n", "spaceone", "get", "secret", "spaceone-admin", "-o", "jsonpath={.data.password}"))
	if stored != adminPw {
		t.Errorf("the spaceone-admin Secret holds another value than the admin password (%d vs %d characters)", len(stored), len(adminPw))
	}
	state := p.run(t, "stack", "export", "--stack", p.stack)
	configMaps := mustKubectl(t, "get", "configmaps", "-A", "-o", "yaml")
	for what, text := range map[string]string{"the state file": state, "a ConfigMap": configMaps, "the output of pulumi up": upOutput} {
		for name, pw := range map[string]string{"admin": adminPw, "mongodb root": rootPw} {
			if strings.Contains(text, pw) {
				t.Errorf("the %s password appears in clear text in %s", name, what)
			}
		}
	}
}

// storePodComesBackWithItsData: a deleted MongoDB pod is recreated on the same volume claim,
// and the platform is unchanged.
func storePodComesBackWithItsData(t *testing.T, p *project) {
	t.Helper()
	claim := mustKubectl(t, "-n", "spaceone", "get", "pvc", "data-mongodb-0", "-o", "jsonpath={.metadata.uid} {.spec.volumeName}")
	oldPod := mustKubectl(t, "-n", "spaceone", "get", "pod", "mongodb-0", "-o", "jsonpath={.metadata.uid}")
	mustKubectl(t, "-n", "spaceone", "delete", "pod", "mongodb-0", "--wait=true")
	mustKubectl(t, "-n", "spaceone", "wait", "--for=condition=Ready", "pod/mongodb-0", "--timeout=60s")
	if pod := mustKubectl(t, "-n", "spaceone", "get", "pod", "mongodb-0", "-o", "jsonpath={.metadata.uid}"); pod == oldPod {
		t.Fatal("mongodb-0 was not recreated")
	}
	vol := mustKubectl(t, "-n", "spaceone", "get", "pod", "mongodb-0", "-o", `jsonpath={.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}`)
	if vol != "data-mongodb-0" {
		t.Errorf("recreated mongodb-0 mounts claim %q", vol)
	}
	if again := mustKubectl(t, "-n", "spaceone", "get", "pvc", "data-mongodb-0", "-o", "jsonpath={.metadata.uid} {.spec.volumeName}"); again != claim {
		t.Errorf("mongodb's claim changed from %q to %q: its data would be lost", claim, again)
	}
	mustKubectl(t, "-n", "spaceone", "rollout", "status", "statefulset/mongodb", "--timeout=60s")
	p.run(t, "preview", "--expect-no-changes")
}

// templateGenerations maps each Deployment to its generation, which moves exactly when its spec (the pod template) changes.
func templateGenerations(t *testing.T) map[string]string {
	t.Helper()
	out := mustKubectl(t, "get", "deployments", "-A", "-o",
		`jsonpath={range .items[*]}{.metadata.name}={.metadata.generation}{"\n"}{end}`)
	hashes := map[string]string{}
	for _, l := range strings.Fields(out) {
		name, gen, _ := strings.Cut(l, "=")
		hashes[name] = gen
	}
	return hashes
}

// oneServiceChangeRollsOnlyIt: a config change to monitoring rolls monitoring's pods and leaves
// every other Deployment's pod template (its generation) as it was, on the real API server.
func oneServiceChangeRollsOnlyIt(t *testing.T, p *project, exp expected) {
	t.Helper()
	before := templateGenerations(t)
	cfg := filepath.Join(p.dir, "stacks", "Pulumi."+p.stack+".yaml")
	orig, err := os.ReadFile(cfg)
	must(t, err)
	changed := strings.Replace(string(orig), "config:\n",
		"config:\n  spaceone:services:\n    monitoring:\n      config:\n        WEBHOOK_DOMAIN: https://alerts.example.com\n", 1)
	must(t, os.WriteFile(cfg, []byte(changed), 0o644))
	p.run(t, "up", "--yes", "--skip-preview")
	after := templateGenerations(t)
	for _, d := range exp.Deployments {
		if _, ok := before[d]; !ok {
			t.Errorf("deployment %s was not there to compare", d)
		}
	}
	for name, gen := range before {
		changed := after[name] != gen
		if want := name == "monitoring"; changed != want {
			t.Errorf("deployment %s: template changed=%v, want %v (generation %s -> %s)", name, changed, want, gen, after[name])
		}
	}
	must(t, os.WriteFile(cfg, orig, 0o644))
}
