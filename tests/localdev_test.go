package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestLocalServicesOnSim: routing a running identity to a laptop IP removes its Deployment and
// points its Service (same ClusterIP, selecting no pod) at that address through an
// EndpointSlice, and at nothing else; a host name makes it an ExternalName; removing the
// setting brings the Deployment and the selector back.
func TestLocalServicesOnSim(t *testing.T) {
	needSim(t)
	base := simStackConfig()
	p := newProject(t, "sim", base)
	write := func(extra string) {
		must(t, os.WriteFile(filepath.Join(p.dir, "stacks", "Pulumi.sim.yaml"), []byte(base+extra), 0o644))
	}
	p.run(t, "up", "--yes", "--skip-preview")
	t.Cleanup(func() { p.try(t, "destroy", "--yes", "--skip-preview") })
	if got := sliceEndpoints(t, "identity"); len(got) != 1 || strings.HasPrefix(got[0], "10.10.0.7:") {
		t.Fatalf("identity's EndpointSlices hold %v before the move, want its pod", got)
	}
	clusterIP := func() string {
		return mustKubectl(t, "-n", "spaceone", "get", "svc", "identity", "-o", "jsonpath={.spec.clusterIP}")
	}
	ip := clusterIP()
	write("  spaceone:localServices:\n    identity: 10.10.0.7:50061\n")
	p.run(t, "up", "--yes", "--skip-preview")

	if out, err := kubectl(t, "-n", "spaceone", "get", "deployment", "identity"); err == nil {
		t.Errorf("identity Deployment exists although identity runs on the laptop: %s", out)
	}
	if sel := mustKubectl(t, "-n", "spaceone", "get", "svc", "identity", "-o", "jsonpath={.spec.selector}"); strings.Contains(sel, "app.kubernetes.io") {
		t.Errorf("identity Service still selects its pods: %s", sel)
	}
	if now := clusterIP(); now != ip {
		t.Errorf("identity's ClusterIP changed from %s to %s: callers holding the address lose it", ip, now)
	}
	// Every slice of the Service, not only ours: a slice the EndpointSlice controller made for
	// the pods before would still send traffic to them if it stopped syncing the Service.
	if got := sliceEndpoints(t, "identity"); !slices.Equal(got, []string{"10.10.0.7:50061"}) {
		t.Errorf("identity's EndpointSlices hold %v, want only 10.10.0.7:50061", got)
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

// sliceEndpoints lists address:port of every endpoint in every EndpointSlice of a Service
// (what kube-proxy sends its traffic to), ours and the EndpointSlice controller's alike.
func sliceEndpoints(t *testing.T, service string) []string {
	t.Helper()
	var list struct {
		Items []struct {
			Endpoints []struct{ Addresses []string }
			Ports     []struct{ Port int }
		}
	}
	must(t, json.Unmarshal([]byte(mustKubectl(t, "-n", "spaceone", "get", "endpointslices", "-l", "kubernetes.io/service-name="+service, "-o", "json")), &list))
	var out []string
	for _, sl := range list.Items {
		for _, e := range sl.Endpoints {
			for _, p := range sl.Ports {
				for _, a := range e.Addresses {
					out = append(out, fmt.Sprintf("%s:%d", a, p.Port))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
