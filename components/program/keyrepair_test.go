package program

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// withLostKey makes the key check answer missing (or "" for a key that is there).
func withLostKey(t *testing.T, missing string) {
	t.Helper()
	saved := lostKey
	lostKey = func(*settings.Settings, *catalog.Release) (string, error) { return missing, nil }
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
	initializer = containerEnv(t, m.Find(job, "initializer"))["SPACEONE_KEY_REPAIR"]
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
