package program

import (
	"sort"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// simConfig is the sim stack's configuration as the CLI would pass it.
// simConfig is the sim stack of 1.10.4, the release most unit tests were written against
// (a stack without spaceone:release gets settings.DefaultRelease).
func simConfig() testkit.Config {
	return testkit.Config{
		"release":     "1.10.4",
		"clusterType": "local",
		"kubeconfig":  "/tmp/sim/admin.kubeconfig",
		"stores":      map[string]any{"storageClass": "sim-local", "mongodb": map[string]any{"size": "1Gi"}},
	}
}

func TestEveryKubernetesResourceUsesTheClusterProvider(t *testing.T) {
	m, err := testkit.Run(Run, simConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range m.Resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		n++
		if !strings.Contains(r.Provider, "pulumi:providers:kubernetes::cluster::") {
			t.Errorf("%s %s uses provider %q, want the cluster's explicit provider", r.Type, r.Name, r.Provider)
		}
	}
	if n == 0 {
		t.Fatal("no kubernetes resources registered")
	}
}

func TestSkeletonDeploysNamespacesAndStores(t *testing.T) {
	m, err := testkit.Run(Run, simConfig())
	if err != nil {
		t.Fatal(err)
	}
	var namespaces []string
	for _, r := range m.OfType("kubernetes:core/v1:Namespace") {
		namespaces = append(namespaces, r.KubeName())
	}
	sort.Strings(namespaces)
	if strings.Join(namespaces, ",") != "root-supervisor,spaceone" {
		t.Errorf("namespaces = %v, want spaceone and root-supervisor", namespaces)
	}
	for _, store := range []string{"mongodb", "redis", "consul"} {
		sts := m.Find("kubernetes:apps/v1:StatefulSet", store)
		if sts == nil {
			t.Errorf("no StatefulSet %s", store)
			continue
		}
		if got := sts.String("metadata.namespace"); got != "spaceone" {
			t.Errorf("%s namespace = %q", store, got)
		}
		claims := sts.Array("spec.volumeClaimTemplates")
		if len(claims) != 1 {
			t.Fatalf("%s has %d claim templates, want 1", store, len(claims))
		}
		if sc := claims[0].ObjectValue()["spec"].ObjectValue()["storageClassName"]; !sc.IsString() || sc.StringValue() != "sim-local" {
			t.Errorf("%s claim storageClassName = %v, want sim-local", store, sc)
		}
		if svc := m.Find("kubernetes:core/v1:Service", store); svc == nil {
			t.Errorf("no Service %s", store)
		}
	}
}

func TestRenderModeNeedsNoCluster(t *testing.T) {
	m, err := testkit.Run(Run, testkit.Config{"renderDir": "/tmp/out"})
	if err != nil {
		t.Fatal(err)
	}
	p := m.OfType("pulumi:providers:kubernetes")
	if len(p) != 1 {
		t.Fatalf("%d kubernetes providers, want 1", len(p))
	}
	if got := p[0].String("renderYamlToDirectory"); got != "/tmp/out" {
		t.Errorf("renderYamlToDirectory = %q", got)
	}
	for _, k := range []string{"kubeconfig", "context"} {
		if v := p[0].String(k); v != "" {
			t.Errorf("render provider sets %s = %q; the provider refuses a cluster in render mode", k, v)
		}
	}
}

func TestBadConfigRegistersNothing(t *testing.T) {
	m, err := testkit.Run(Run, testkit.Config{"clusterType": "gke"})
	if err == nil || !strings.Contains(err.Error(), "spaceone:clusterType") {
		t.Fatalf("err = %v, want a message naming spaceone:clusterType", err)
	}
	for _, r := range m.Resources {
		if r.Type != "pulumi:pulumi:Stack" {
			t.Errorf("registered %s %s despite invalid config", r.Type, r.Name)
		}
	}
}

// Every Kubernetes object carries the stable field manager, so an interrupted `up` that sent an
// object without recording it is followed by a plain update, never a field conflict.
func TestEveryKubernetesObjectHasTheStableFieldManager(t *testing.T) {
	for name, m := range map[string]*testkit.Mocks{
		"sim": run(t, simConfig()),
		"eks": runEKS(t, eksConfig()),
	} {
		n := 0
		for _, r := range m.Resources {
			if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
				continue
			}
			n++
			if got := r.Object("metadata.annotations")["pulumi.com/patchFieldManager"]; !got.IsString() || got.StringValue() != kube.FieldManager {
				t.Errorf("%s: %s %s has field manager %v, want %s (wrap its metadata in kube.Managed)", name, r.Type, r.Name, got, kube.FieldManager)
			}
		}
		if n < 50 {
			t.Errorf("%s: only %d Kubernetes objects checked", name, n)
		}
	}
}

// Generated passwords come from the stack's credential seed: the same on every run (so a
// re-created Secret holds the password the data was initialised with), different per seed.
func TestGeneratedPasswordsFollowTheCredentialSeed(t *testing.T) {
	stored := func(seed string) map[string]string {
		cfg := simConfig()
		cfg["credentialSeed"] = seed
		m := run(t, cfg, "credentialSeed")
		got := map[string]string{}
		for _, name := range []string{"mongodb-root", "admin-password"} {
			r := m.Find(secretType, name)
			if r == nil {
				t.Fatalf("no Secret %s", name)
			}
			v, ok := r.SecretString("password")
			if !ok || v == "" {
				t.Fatalf("Secret %s has no secret password", name)
			}
			got[name] = v
		}
		return got
	}
	a, again, other := stored("seed-one-0123456789abcdef"), stored("seed-one-0123456789abcdef"), stored("seed-two-0123456789abcdef")
	for name := range a {
		if a[name] != again[name] {
			t.Errorf("%s: two runs with the same seed generated different passwords", name)
		}
		if a[name] == other[name] {
			t.Errorf("%s: two seeds generated the same password", name)
		}
	}
	if a["mongodb-root"] == a["admin-password"] {
		t.Error("two Secrets got the same password from one seed")
	}
}
