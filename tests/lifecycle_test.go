package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/platform"
	"github.com/spaceone-pulumi/spaceone/components/supervisor"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// TestSimLifecycle: up creates the namespaces and stores on the API server, a second up
// changes nothing, destroy removes them.
func TestSimLifecycle(t *testing.T) {
	needSim(t)
	p := newProject(t, "sim", simStackConfig())
	exp := expect(t, simRelease)
	upOutput := p.run(t, "up", "--yes", "--skip-preview")

	for _, ns := range []string{spaceoneNS, pluginNS} {
		get(t, api(t).CoreV1().Namespaces().Get, ns)
	}
	for _, sts := range exp.Stores {
		if ready := get(t, api(t).AppsV1().StatefulSets(spaceoneNS).Get, sts).Status.ReadyReplicas; ready != 1 {
			t.Errorf("statefulset %s has %d ready replicas, want 1", sts, ready)
		}
		claim := volumes.StoreClaim(spaceoneNS, sts)
		if phase := get(t, api(t).CoreV1().PersistentVolumeClaims(claim.Namespace).Get, claim.Name).Status.Phase; phase != corev1.ClaimBound {
			t.Errorf("pvc %s is %s, want Bound", claim, phase)
		}
	}
	// Every Deployment the catalogue enables is there and ready (kwok makes pods Ready; the
	// scheduler placed them), and every service has its Service.
	deployments := map[string]appsv1.Deployment{}
	for _, d := range list(t, api(t).AppsV1().Deployments(spaceoneNS).List, "").Items {
		deployments[d.Name] = d
	}
	for _, name := range exp.Deployments {
		d, ok := deployments[name]
		if !ok || d.Spec.Replicas == nil || d.Status.ReadyReplicas != *d.Spec.Replicas {
			t.Errorf("deployment %s not there or not ready: %d of %v ready", name, d.Status.ReadyReplicas, d.Spec.Replicas)
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
	for _, ns := range []string{spaceoneNS, pluginNS} {
		if exists(t, api(t).CoreV1().Namespaces().Get, ns) {
			t.Errorf("namespace %s still exists after destroy", ns)
		}
	}
	if claims := list(t, api(t).CoreV1().PersistentVolumeClaims("").List, "").Items; len(claims) != 0 {
		t.Errorf("%d claims left after destroy, %s among them", len(claims), claims[0].Name)
	}
	for kind, left := range ourObjects(t) {
		if len(left) != 0 {
			t.Errorf("%s left after destroy: %v", kind, left)
		}
	}
}

// firstInstallChecks: the initializer Job completed, the token consumers were created only
// after it, and the supervisor's account can do exactly what it needs, only in its namespace.
func firstInstallChecks(t *testing.T, exp expected) {
	t.Helper()
	jobs := list(t, api(t).BatchV1().Jobs(spaceoneNS).List, kube.NameLabel+"="+catalog.WorkloadInitializer).Items
	if len(jobs) != 1 || jobs[0].Status.Succeeded != 1 || jobs[0].Status.CompletionTime == nil {
		t.Fatalf("initializer Job did not complete: %d Jobs, %+v", len(jobs), jobs)
	}
	completed := jobs[0].Status.CompletionTime
	// The token consumers (they read the key when they start; 1.10.4's workers do not).
	for _, c := range exp.Consumers {
		created := get(t, api(t).AppsV1().Deployments(c.ns).Get, c.name).CreationTimestamp
		if created.Before(completed) {
			t.Errorf("token consumer %s created at %s, before the initializer completed at %s", c.name, created, completed)
		}
	}
	sa := "system:serviceaccount:" + pluginNS + ":" + supervisor.Name
	checks := []struct {
		verb, resource, ns string
		want               string
	}{
		{"create", "deployments.apps", pluginNS, "yes"},
		{"get", "deployments.apps", pluginNS, "yes"},
		{"delete", "deployments.apps", pluginNS, "yes"},
		{"create", "services", pluginNS, "yes"},
		{"list", "services", pluginNS, "yes"},
		{"delete", "services", pluginNS, "yes"},
		{"get", "endpoints", pluginNS, "yes"},
		{"update", "deployments.apps", pluginNS, "no"},
		{"list", "deployments.apps", pluginNS, "no"},
		{"get", "secrets", pluginNS, "no"},
		{"create", "pods", pluginNS, "no"},
		{"create", "roles.rbac.authorization.k8s.io", pluginNS, "no"},
		{"create", "deployments.apps", spaceoneNS, "no"},
		{"get", "services", spaceoneNS, "no"},
		{"get", "secrets", spaceoneNS, "no"},
		{"create", "deployments.apps", "default", "no"},
		{"list", "namespaces", "", "no"},
		{"list", "nodes", "", "no"},
		{"create", "clusterrolebindings.rbac.authorization.k8s.io", "", "no"},
	}
	// The services and the initializer run as their namespace's default account, which may do nothing.
	for _, acct := range []string{"system:serviceaccount:" + spaceoneNS + ":default", "system:serviceaccount:" + pluginNS + ":default"} {
		for _, c := range []struct{ verb, resource, ns string }{
			{"get", "secrets", spaceoneNS}, {"list", "pods", spaceoneNS}, {"create", "deployments.apps", pluginNS},
			{"get", "configmaps", spaceoneNS}, {"delete", "services", pluginNS},
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
	rootPw := mongoRootPassword(t)
	if len(adminPw) < 16 || len(rootPw) < 16 {
		t.Fatalf("generated passwords too short: %d, %d characters", len(adminPw), len(rootPw))
	}
	// The spaceone-admin Secret holds what the user types at the login (the output's value).
	stored := string(get(t, api(t).CoreV1().Secrets(spaceoneNS).Get, platform.AdminSecret).Data["password"])
	if stored != adminPw {
		t.Errorf("the %s Secret holds another value than the admin password (%d vs %d characters)", platform.AdminSecret, len(stored), len(adminPw))
	}
	state := p.run(t, "stack", "export", "--stack", p.stack)
	configMaps := configMapTexts(t)
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
	claimName := volumes.StoreClaim(spaceoneNS, "mongodb")
	pvcs, pods := api(t).CoreV1().PersistentVolumeClaims(spaceoneNS), api(t).CoreV1().Pods(spaceoneNS)
	claim := get(t, pvcs.Get, claimName.Name)
	oldPod := get(t, pods.Get, "mongodb-0").UID
	mustKubectl(t, "-n", spaceoneNS, "delete", "pod", "mongodb-0", "--wait=true")
	mustKubectl(t, "-n", spaceoneNS, "wait", "--for=condition=Ready", "pod/mongodb-0", "--timeout=60s")
	pod := get(t, pods.Get, "mongodb-0")
	if pod.UID == oldPod {
		t.Fatal("mongodb-0 was not recreated")
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name == "data" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claimName.Name) {
			t.Errorf("recreated mongodb-0 mounts %+v as its data", v.VolumeSource)
		}
	}
	if again := get(t, pvcs.Get, claimName.Name); again.UID != claim.UID || again.Spec.VolumeName != claim.Spec.VolumeName {
		t.Errorf("mongodb's claim changed from %s on %s to %s on %s: its data would be lost", claim.UID, claim.Spec.VolumeName, again.UID, again.Spec.VolumeName)
	}
	mustKubectl(t, "-n", spaceoneNS, "rollout", "status", "statefulset/mongodb", "--timeout=60s")
	p.run(t, "preview", "--expect-no-changes")
}

// templateGenerations maps each Deployment to its generation, which moves exactly when its spec (the pod template) changes.
func templateGenerations(t *testing.T) map[string]int64 {
	t.Helper()
	generations := map[string]int64{}
	for _, d := range list(t, api(t).AppsV1().Deployments("").List, "").Items {
		generations[d.Name] = d.Generation
	}
	return generations
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
			t.Errorf("deployment %s: template changed=%v, want %v (generation %d -> %d)", name, changed, want, gen, after[name])
		}
	}
	must(t, os.WriteFile(cfg, orig, 0o644))
}

// configMapTexts is every value in every ConfigMap of the cluster: data, binary data, labels
// and annotations (where a client's last-applied copy would be).
func configMapTexts(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, cm := range list(t, api(t).CoreV1().ConfigMaps("").List, "").Items {
		for _, m := range []map[string]string{cm.Data, cm.Labels, cm.Annotations} {
			for _, v := range m {
				b.WriteString(v + "\n")
			}
		}
		for _, v := range cm.BinaryData {
			b.Write(append(v, '\n'))
		}
	}
	return b.String()
}
