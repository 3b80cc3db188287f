package program

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// fakeVolumes is a local cluster's API server as stores.keepVolumes sees it.
type fakeVolumes struct {
	classes  map[string]*volumes.Class // "" = the default class
	kept     []volumes.Kept
	err      error
	asked    []volumes.Claim // the claims Kept was asked about
	askedFor string          // the class Kept was asked about
	reserved []string
}

func (f *fakeVolumes) StorageClass(name string) (*volumes.Class, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.classes[name], nil
}

func (f *fakeVolumes) Kept(class string, claims []volumes.Claim) ([]volumes.Kept, error) {
	f.asked, f.askedFor = claims, class
	return f.kept, nil
}

func (f *fakeVolumes) Reserve(k volumes.Kept) error {
	f.reserved = append(f.reserved, k.Volume)
	return nil
}

// withVolumes runs the program against fake; cfg gets keepVolumes on.
func withVolumes(t *testing.T, fake *fakeVolumes, dryRun bool, cfg testkit.Config, secretKeys ...string) (*testkit.Mocks, error) {
	t.Helper()
	saved := connectVolumes
	connectVolumes = func(string, string) (volumes.Cluster, error) { return fake, nil }
	t.Cleanup(func() { connectVolumes = saved })
	stores, _ := cfg["stores"].(map[string]any)
	if stores == nil {
		stores = map[string]any{}
	}
	stores["keepVolumes"] = true
	cfg["stores"] = stores
	m := &testkit.Mocks{DryRun: dryRun}
	return m, testkit.RunWith(m, Run, cfg, secretKeys...)
}

func claimClasses(t *testing.T, m *testkit.Mocks) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, sts := range m.OfType(stateful) {
		tpl := sts.Array("spec.volumeClaimTemplates")
		if len(tpl) != 1 {
			t.Fatalf("%s: %d claim templates", sts.Name, len(tpl))
		}
		got[sts.KubeName()] = testkit.Resource{Inputs: tpl[0].ObjectValue()}.String("spec.storageClassName")
	}
	return got
}

func TestKeepVolumesOnADeletingClassAddsARetainTwin(t *testing.T) {
	fake := &fakeVolumes{classes: map[string]*volumes.Class{"": {
		Name: "standard", Provisioner: "k8s.io/minikube-hostpath", ReclaimPolicy: "Delete", VolumeBindingMode: "Immediate",
	}}}
	m, err := withVolumes(t, fake, false, testkit.Config{"clusterType": "local", "kubeContext": "minikube", "release": "1.10.4"})
	if err != nil {
		t.Fatal(err)
	}
	classes := m.OfType("kubernetes:storage.k8s.io/v1:StorageClass")
	if len(classes) != 1 {
		t.Fatalf("%d StorageClasses, want the Retain twin of standard", len(classes))
	}
	twin := classes[0]
	if twin.KubeName() != "standard-retain" || twin.String("reclaimPolicy") != "Retain" || twin.String("provisioner") != "k8s.io/minikube-hostpath" {
		t.Errorf("twin = %s reclaim %s provisioner %s", twin.KubeName(), twin.String("reclaimPolicy"), twin.String("provisioner"))
	}
	for sts, class := range claimClasses(t, m) {
		if class != "standard-retain" {
			t.Errorf("%s claims from %q, want standard-retain", sts, class)
		}
	}
	// The namespaces (and so every claim) are created after the twin and deleted before it.
	for _, ns := range m.OfType("kubernetes:core/v1:Namespace") {
		if !strings.Contains(strings.Join(ns.Deps, " "), "kubernetes:storage.k8s.io/v1:StorageClass::retain") {
			t.Errorf("namespace %s does not depend on the StorageClass it claims from", ns.KubeName())
		}
	}
	if fake.askedFor != "standard-retain" || len(fake.asked) != 4 || !slices.Contains(fake.asked, volumes.Claim{Namespace: "spaceone", Name: backup.Claim}) {
		t.Errorf("kept volumes looked up in class %q for %v, want standard-retain, 3 store claims and the backup volume's", fake.askedFor, fake.asked)
	}
}

func TestKeepVolumesOnARetainingClassUsesIt(t *testing.T) {
	fake := &fakeVolumes{classes: map[string]*volumes.Class{"sim-local": {Name: "sim-local", ReclaimPolicy: "Retain"}}}
	m, err := withVolumes(t, fake, false, simConfig())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.OfType("kubernetes:storage.k8s.io/v1:StorageClass")); n != 0 {
		t.Errorf("%d StorageClasses made for a class that already retains", n)
	}
	for sts, class := range claimClasses(t, m) {
		if class != "sim-local" {
			t.Errorf("%s claims from %q, want sim-local", sts, class)
		}
	}
}

func TestKeptVolumesAreGivenBackOnUpNotOnPreview(t *testing.T) {
	kept := []volumes.Kept{{Volume: "pv-mongo", Claim: volumes.StoreClaim("spaceone", "mongodb")}}
	for _, dryRun := range []bool{true, false} {
		fake := &fakeVolumes{classes: map[string]*volumes.Class{"sim-local": {Name: "sim-local", ReclaimPolicy: "Retain"}}, kept: kept}
		if _, err := withVolumes(t, fake, dryRun, simConfig()); err != nil {
			t.Fatal(err)
		}
		want := 1
		if dryRun {
			want = 0 // a preview changes nothing
		}
		if len(fake.reserved) != want {
			t.Errorf("dry run %v: reserved %v, want %d", dryRun, fake.reserved, want)
		}
	}
}

func TestKeepVolumesAsksOnlyForStoresInTheCluster(t *testing.T) {
	fake := &fakeVolumes{classes: map[string]*volumes.Class{"sim-local": {Name: "sim-local", ReclaimPolicy: "Retain"}}}
	cfg := simConfig()
	cfg["stores"] = map[string]any{"storageClass": "sim-local", "mongodb": map[string]any{"external": map[string]any{"host": "mongo.example.com", "port": 27017, "username": "spaceone"}}}
	cfg["localServices"] = map[string]any{"redis": "10.0.0.5:6379"}
	cfg["mongodbPassword"] = "s3cret-given-as-secret"
	if _, err := withVolumes(t, fake, false, cfg, "mongodbPassword"); err != nil {
		t.Fatal(err)
	}
	if len(fake.asked) != 1 || fake.asked[0] != volumes.StoreClaim("spaceone", "consul") {
		t.Errorf("asked about %v, want only spaceone/data-consul-0", fake.asked)
	}
}

func TestKeepVolumesRefusesAClusterThatCannotKeepThem(t *testing.T) {
	cases := map[string]*fakeVolumes{
		"no default class": {classes: map[string]*volumes.Class{}},
		"unreachable":      {err: errors.New("connection refused")},
	}
	for name, fake := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := withVolumes(t, fake, true, testkit.Config{"clusterType": "local", "kubeContext": "minikube"})
			if err == nil || !strings.Contains(err.Error(), "spaceone:stores.keepVolumes") {
				t.Fatalf("error %v, want one naming spaceone:stores.keepVolumes", err)
			}
			if n := len(m.Touched()); n != 0 {
				t.Errorf("%d resources registered before the refusal", n)
			}
		})
	}
}
