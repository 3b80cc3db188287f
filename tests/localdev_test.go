package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalServicesOnSim: routing identity to a laptop IP removes its Deployment and points
// its selector-less Service at that address through an EndpointSlice; a host name makes it an
// ExternalName; removing the setting brings the Deployment and the selector back.
func TestLocalServicesOnSim(t *testing.T) {
	needSim(t)
	base := simStackConfig()
	p := newProject(t, "sim", base)
	write := func(extra string) {
		must(t, os.WriteFile(filepath.Join(p.dir, "stacks", "Pulumi.sim.yaml"), []byte(base+extra), 0o644))
	}
	write("  spaceone:localServices:\n    identity: 10.10.0.7:50061\n")
	p.run(t, "up", "--yes", "--skip-preview")
	t.Cleanup(func() { p.try(t, "destroy", "--yes", "--skip-preview") })

	if out, err := kubectl(t, "-n", "spaceone", "get", "deployment", "identity"); err == nil {
		t.Errorf("identity Deployment exists although identity runs on the laptop: %s", out)
	}
	if sel := mustKubectl(t, "-n", "spaceone", "get", "svc", "identity", "-o", "jsonpath={.spec.selector}"); sel != "" {
		t.Errorf("identity Service still has selector %s", sel)
	}
	slice := mustKubectl(t, "-n", "spaceone", "get", "endpointslices", "-l", "kubernetes.io/service-name=identity", "-o",
		"jsonpath={range .items[*]}{.endpoints[0].addresses[0]}:{.ports[0].port} {end}")
	if !strings.Contains(slice, "10.10.0.7:50061") {
		t.Errorf("identity EndpointSlices = %q, want one pointing at 10.10.0.7:50061", slice)
	}
	p.run(t, "preview", "--expect-no-changes")

	write("  spaceone:localServices:\n    identity: host.minikube.internal:50051\n")
	p.run(t, "up", "--yes", "--skip-preview")
	got := mustKubectl(t, "-n", "spaceone", "get", "svc", "identity", "-o", "jsonpath={.spec.type} {.spec.externalName}")
	if got != "ExternalName host.minikube.internal" {
		t.Errorf("identity Service = %q, want ExternalName host.minikube.internal", got)
	}

	write("")
	p.run(t, "up", "--yes", "--skip-preview")
	ready := identityReady(t)
	if ready != "1" {
		t.Errorf("identity Deployment not back: readyReplicas %q", ready)
	}
	if sel := mustKubectl(t, "-n", "spaceone", "get", "svc", "identity", "-o", "jsonpath={.spec.type} {.spec.selector}"); !strings.Contains(sel, "ClusterIP") || !strings.Contains(sel, "identity") {
		t.Errorf("identity Service not restored: %s", sel)
	}

	// The forwarder opens exactly the ports devConfig names.
	var ports map[string]string
	must(t, json.Unmarshal([]byte(p.run(t, "stack", "output", "devPorts", "--json", "--stack", "sim")), &ports))
	cmds := p.devConnectPrint(t)
	for name, addr := range ports {
		port := addr[strings.LastIndex(addr, ":")+1:]
		if !strings.Contains(cmds, "svc/"+name+" "+port+":") {
			t.Errorf("dev-connect does not forward %s on %s:\n%s", name, addr, cmds)
		}
	}
}
