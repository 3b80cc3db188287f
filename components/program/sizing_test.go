package program

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// quantity is q as a number (cores, bytes), through apimachinery's parser.
func quantity(t *testing.T, q string) float64 {
	t.Helper()
	v, err := resource.ParseQuantity(q)
	if err != nil {
		t.Fatalf("quantity %q: %v", q, err)
	}
	return v.AsApproximateFloat64()
}

// TestMinikubeRequestsFit: the minikube stack's requests (every container times its replicas)
// fit `minikube start --cpus 4 --memory 8g` with room for the system pods (~1 CPU, ~1 GiB) and
// for the Python services' peaks, for every release. The requests follow the resident memory
// measured on the real first install (README "Releases").
func TestMinikubeRequestsFit(t *testing.T) {
	for _, release := range catalog.Versions() {
		t.Run(release, func(t *testing.T) {
			m := run(t, testkit.Config{"clusterType": "local", "kubeContext": "minikube", "release": release})
			minikubeRequestsFit(t, m)
		})
	}
}

func minikubeRequestsFit(t *testing.T, m *testkit.Mocks) {
	var cpu, mem float64
	for _, typ := range []string{deployment, stateful} {
		for _, w := range m.OfType(typ) {
			replicas := 1.0
			if r := w.Get("spec.replicas"); r.IsNumber() {
				replicas = r.NumberValue()
			}
			for _, c := range w.Array("spec.template.spec.containers") {
				req := c.ObjectValue()["resources"].ObjectValue()["requests"].ObjectValue()
				cpu += replicas * quantity(t, req["cpu"].StringValue())
				mem += replicas * quantity(t, req["memory"].StringValue())
			}
		}
	}
	t.Logf("minikube stack requests: cpu %.2f cores, memory %.2f GiB", cpu, mem/(1<<30))
	if cpu > 2.5 || mem > 5.5*(1<<30) {
		t.Errorf("requests (%.2f CPU, %.2f GiB) do not fit a 4-CPU / 8 GiB minikube with room for its system pods", cpu, mem/(1<<30))
	}
}
