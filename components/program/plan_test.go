package program

import (
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// Mistakes only the catalogue can judge are still refused before any resource exists.
func TestPlanMistakesRegisterNothing(t *testing.T) {
	cases := []struct {
		name     string
		services map[string]any
		key      string
	}{
		{"callee switched off", map[string]any{"identity": map[string]any{"enabled": false}}, "spaceone:services.identity.enabled"},
		{"variant the service lacks", map[string]any{"identity": map[string]any{"variants": []string{"grpc", "worker"}}}, "spaceone:services.identity.variants[1]"},
		{"no grpc variant", map[string]any{"inventory": map[string]any{"variants": []string{"worker"}}}, "spaceone:services.inventory.variants"},
		{"replicas of a variant not run", map[string]any{"plugin": map[string]any{"replicas": map[string]any{"worker": 2}}}, "spaceone:services.plugin.replicas.worker"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := simConfig()
			cfg["services"] = c.services
			m, err := testkit.Run(Run, cfg)
			if err == nil || !strings.Contains(err.Error(), c.key+":") {
				t.Fatalf("err = %v, want one naming %s", err, c.key)
			}
			for _, r := range m.Resources {
				if r.Type != "pulumi:pulumi:Stack" {
					t.Errorf("registered %s %s", r.Type, r.Name)
				}
			}
		})
	}
}

func TestStackOverridesReachTheDeployments(t *testing.T) {
	cfg := simConfig()
	cfg["services"] = map[string]any{
		"plugin":        map[string]any{"variants": []string{"grpc", "scheduler", "worker"}, "replicas": map[string]any{"worker": 3}},
		"cost-analysis": map[string]any{"enabled": true, "tag": "1.10.4.8"},
		"board":         map[string]any{"enabled": false},
		"inventory":     map[string]any{"resources": map[string]any{"memoryLimit": "2Gi"}},
	}
	m := run(t, cfg)
	if d := m.Find(deployment, "plugin-worker"); d == nil || d.Get("spec.replicas").NumberValue() != 3 {
		t.Errorf("plugin-worker not deployed with 3 replicas")
	}
	if m.Find(deployment, "plugin-scheduler") == nil {
		t.Error("plugin-scheduler not deployed")
	}
	if img := images(m)["cost-analysis"]; !strings.HasSuffix(img, ":1.10.4.8") {
		t.Errorf("cost-analysis image = %q", img)
	}
	if m.Find(deployment, "board") != nil || m.Find(service, "board") != nil {
		t.Error("board deployed although disabled")
	}
	for name, text := range configData(m) {
		if strings.Contains(text, "grpc://board:") {
			t.Errorf("%s still names the disabled board service", name)
		}
	}
	inv := m.Find(deployment, "inventory")
	lim := inv.Array("spec.template.spec.containers")[0].ObjectValue()["resources"].ObjectValue()["limits"].ObjectValue()["memory"]
	if lim.StringValue() != "2Gi" {
		t.Errorf("inventory memory limit = %v", lim)
	}
}
