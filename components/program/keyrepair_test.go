package program

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// withLostKey makes the key check answer missing (or "" for a key that is there).
func withLostKey(t *testing.T, missing string) {
	t.Helper()
	saved := lostKey
	lostKey = func(*settings.Settings, *catalog.Release, string) (string, error) { return missing, nil }
	t.Cleanup(func() { lostKey = saved })
}

// repairOf is what one up of a deployed 1.12.12 stack does about the key: the initializer's
// repair mark, the key Secrets' annotation, and what the inventory scheduler's pods carry of
// the key.
func repairOf(t *testing.T, outputs map[string]any) (initializer, secret, consumer string) {
	t.Helper()
	m, err := deployed(t, outputs, false, config112())
	if err != nil {
		t.Fatal(err)
	}
	initializer = initializerManifest(t, m).Repair
	for _, s := range m.OfType("kubernetes:core/v1:Secret") {
		if s.KubeName() == apikey.SecretName && s.String("metadata.namespace") == "spaceone" {
			secret = plain(s.Object("metadata.annotations"), apikey.RepairAnnotation)
		}
	}
	if d := m.Find(deployment, "inventory-scheduler"); d != nil {
		consumer = plain(d.Object("spec.template.metadata.annotations"), apikey.RotationAnnotation)
	} else {
		t.Fatal("no inventory-scheduler")
	}
	return initializer, secret, consumer
}

// A plain up on a platform whose key is gone from where the release keeps it repairs it: the
// initializer runs again (a new Job, in its rekey mode), the key's Secret is made again, the
// consumers restart; the mark stays in the outputs, and the next up with the key back changes
// nothing.
func TestPlainUpRepairsALostKey(t *testing.T) {
	was := map[string]any{"release": release112, "namespace": "spaceone"}
	withLostKey(t, "the Secret spaceone/spaceone-api-key is gone")
	ini, sec, con := repairOf(t, was)
	if ini == "" || sec != ini || !strings.Contains(con, "+repaired:"+ini) {
		t.Fatalf("a lost key: initializer repair %q, Secret annotation %q, consumers %q; want one mark in all three", ini, sec, con)
	}

	withLostKey(t, "")
	was[keyRepairOutput] = ini
	if i, s, c := repairOf(t, was); i != ini || s != ini || c != con {
		t.Errorf("the up after the repair changes the key's objects: %q %q %q, want %q %q %q", i, s, c, ini, sec, con)
	}
	delete(was, keyRepairOutput)
	if i, s, c := repairOf(t, was); i != "" || s != "" || strings.Contains(c, "repaired") {
		t.Errorf("with the key where it belongs, up repairs: %q %q %q", i, s, c)
	}
}

// The key check reads the hand-off's Secrets: one gone is lost; one there without the key is
// not (the program makes them empty, and on the sim nothing fills them).
func TestLostReadsTheKeySecrets(t *testing.T) {
	secret := func(ns string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: apikey.SecretName, Namespace: ns}, Data: data}
	}
	where := apikey.Where{Namespaces: []string{"spaceone", "root-supervisor"}}
	key := map[string][]byte{apikey.FileName: []byte("TOKEN: eyJ.x.y\n")}
	for _, c := range []struct {
		name    string
		objects []*corev1.Secret
		want    string
	}{
		{"both there", []*corev1.Secret{secret("spaceone", key), secret("root-supervisor", key)}, ""},
		{"one gone", []*corev1.Secret{secret("spaceone", key)}, "root-supervisor/spaceone-api-key is gone"},
		{"one empty", []*corev1.Secret{secret("spaceone", nil), secret("root-supervisor", key)}, ""},
	} {
		client := fake.NewSimpleClientset()
		for _, o := range c.objects {
			if _, err := client.CoreV1().Secrets(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := apikey.Lost(context.Background(), client, where)
		if err != nil || (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// plain is the string under key ("" when absent).
func plain(m resource.PropertyMap, key string) string {
	if v := m[resource.PropertyKey(key)]; v.IsString() {
		return v.StringValue()
	}
	return ""
}

// On EKS the check reaches the cluster through the kubeconfig the last up output (a secret),
// and a lost key is repaired as on a local cluster; a stack whose outputs hold no kubeconfig
// (its cluster not made yet) is not checked.
func TestEKSChecksTheKeyThroughTheKubeconfigOutput(t *testing.T) {
	const kubeconfig = `{"apiVersion":"v1","kind":"Config","current-context":"aws"}`
	var seen []string
	saved := lostKey
	lostKey = func(_ *settings.Settings, _ *catalog.Release, kc string) (string, error) {
		seen = append(seen, kc)
		return "the Secret spaceone/spaceone-api-key is gone", nil
	}
	t.Cleanup(func() { lostKey = saved })

	m := eksMocks()
	m.Deployed = map[string]any{"release": release112, "namespace": "spaceone",
		"kubeconfig": resource.MakeSecret(resource.NewStringProperty(kubeconfig))}
	if err := testkit.RunWith(m, Run, eksConfig()); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != kubeconfig {
		t.Fatalf("the key check got kubeconfigs %q, want the deployed stack's output once", seen)
	}
	if mark := initializerManifest(t, m).Repair; mark == "" {
		t.Error("a lost key on eks: the initializer is not asked to repair it")
	}

	seen = nil
	m = eksMocks()
	m.Deployed = map[string]any{"release": release112, "namespace": "spaceone"}
	if err := testkit.RunWith(m, Run, eksConfig()); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Errorf("an eks stack without a kubeconfig output was checked through %q", seen)
	}
}

// checkKey, given a kubeconfig's content (an eks stack's output), asks that cluster: here an
// API server stand-in that has no key Secret.
func TestCheckKeyAsksTheClusterTheKubeconfigNames(t *testing.T) {
	var asked []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}))
	defer api.Close()
	kubeconfig := fmt.Sprintf(`{"apiVersion":"v1","kind":"Config","current-context":"c",
		"clusters":[{"name":"c","cluster":{"server":%q}}],"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}],
		"users":[{"name":"u","user":{"token":"t"}}]}`, api.URL)
	s := &settings.Settings{Cluster: settings.Cluster{Type: "eks"}, Namespace: "spaceone", PluginNamespace: "root-supervisor"}
	rel, err := catalog.Load(release112)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := checkKey(s, rel, kubeconfig)
	if err != nil || !strings.Contains(missing, "spaceone/spaceone-api-key is gone") {
		t.Fatalf("checkKey = %q, %v; want the Secret gone", missing, err)
	}
	if len(asked) != 1 || asked[0] != "/api/v1/namespaces/spaceone/secrets/"+apikey.SecretName {
		t.Errorf("the cluster was asked %q", asked)
	}
}
