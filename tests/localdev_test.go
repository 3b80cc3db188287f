package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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
	identitySvc := func() *corev1.Service { return get(t, api(t).CoreV1().Services(spaceoneNS).Get, "identity") }
	clusterIP := func() string { return identitySvc().Spec.ClusterIP }
	ip := clusterIP()
	write("  spaceone:localServices:\n    identity: 10.10.0.7:50061\n")
	p.run(t, "up", "--yes", "--skip-preview")

	if exists(t, api(t).AppsV1().Deployments(spaceoneNS).Get, "identity") {
		t.Error("identity Deployment exists although identity runs on the laptop")
	}
	for label := range identitySvc().Spec.Selector {
		if strings.HasPrefix(label, "app.kubernetes.io") {
			t.Errorf("identity Service still selects its pods: %v", identitySvc().Spec.Selector)
		}
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
	if svc := identitySvc(); svc.Spec.Type != corev1.ServiceTypeExternalName || svc.Spec.ExternalName != "host.minikube.internal" {
		t.Errorf("identity Service is %s %q, want ExternalName host.minikube.internal", svc.Spec.Type, svc.Spec.ExternalName)
	}

	write("")
	p.run(t, "up", "--yes", "--skip-preview")
	if ready := identityReady(t); ready != 1 {
		t.Errorf("identity Deployment not back: %d ready", ready)
	}
	if svc := identitySvc(); svc.Spec.Type != corev1.ServiceTypeClusterIP || !slices.Contains(slices.Collect(maps.Values(svc.Spec.Selector)), "identity") {
		t.Errorf("identity Service not restored: %s selecting %v", svc.Spec.Type, svc.Spec.Selector)
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
	all := list(t, api(t).DiscoveryV1().EndpointSlices(spaceoneNS).List, discoveryv1.LabelServiceName+"="+service)
	var out []string
	for _, sl := range all.Items {
		for _, e := range sl.Endpoints {
			for _, p := range sl.Ports {
				for _, a := range e.Addresses {
					out = append(out, fmt.Sprintf("%s:%d", a, *p.Port))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
