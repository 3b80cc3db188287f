package tests

import (
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/kube"
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
	ours := kube.PartOfLabel + "=" + kube.PartOf
	core, apps := api(t).CoreV1(), api(t).AppsV1()
	for kind, got := range map[string][]string{
		"namespaces":   names(list(t, core.Namespaces().List, ours).Items),
		"deployments":  names(list(t, apps.Deployments("").List, ours).Items),
		"statefulsets": names(list(t, apps.StatefulSets("").List, ours).Items),
		"secrets":      names(list(t, core.Secrets("").List, ours).Items),
		"configmaps":   names(list(t, core.ConfigMaps("").List, ours).Items),
	} {
		if len(got) != 0 {
			t.Errorf("the cluster holds %s after a refusal: %v", kind, got)
		}
	}
}
