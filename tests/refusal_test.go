package tests

import (
	"strings"
	"testing"
)

// TestRefusalCreatesNothing: a configuration with several mistakes is refused by `pulumi up`
// with every problem in one message, and neither the stack nor the cluster holds anything
// afterwards.
func TestRefusalCreatesNothing(t *testing.T) {
	needSim(t)
	cfg := simStackConfig() + "  spaceone:namespace: default\n  spaceone:namespce: x\n" +
		"  spaceone:services: {identity: {resources: {memoryRequest: 1Gi, memoryLimit: 512Mi}}}\n"
	p := newProject(t, "sim", cfg)
	out, err := p.try(t, "up", "--yes", "--skip-preview")
	if err == nil {
		t.Fatalf("pulumi up accepted a bad configuration:\n%s", tail(out, 40))
	}
	for _, want := range []string{"nothing was created", "spaceone:namespace:", "system namespace",
		`spaceone:namespce:`, `did you mean "namespace"?`, "spaceone:services.identity.resources.memoryLimit:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, tail(out, 40))
		}
	}
	if state := p.run(t, "stack", "export"); strings.Contains(state, `"type": "kubernetes:`) {
		t.Errorf("the stack recorded Kubernetes resources after a refusal:\n%s", tail(state, 40))
	}
	for kind, got := range ourObjects(t) {
		if len(got) != 0 {
			t.Errorf("the cluster holds %s after a refusal: %v", kind, got)
		}
	}
}
