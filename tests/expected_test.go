package tests

import (
	"slices"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// expected is what a stack of a release should run, read from the release's catalogue (the
// test stacks keep every service's default): what the checks expect comes from here, never
// from a listing of the cluster, which would hide whatever was not deployed.
type expected struct {
	release *catalog.Release
	// Services are the enabled gRPC services, each reached by a Service of its name.
	Services []string
	// Deployments are the services' workloads in namespace spaceone, one per enabled variant.
	Deployments []string
	// Consumers are the workloads that read the API key when they start: the services'
	// (namespace spaceone) and the supervisor (root-supervisor), one pod each.
	Consumers []workload
	// Stores are the stores the release runs on, each a StatefulSet of its name.
	Stores []string
}

func expect(t *testing.T, version string) expected {
	t.Helper()
	rel, err := catalog.Load(version)
	if err != nil {
		t.Fatalf("catalogue of %s: %v", version, err)
	}
	e := expected{release: rel, Stores: rel.Stores}
	for _, name := range rel.ServiceNames() {
		svc := rel.Services[name]
		if !svc.EnabledByDefault() {
			continue
		}
		e.Services = append(e.Services, name)
		e.Deployments = append(e.Deployments, e.workloadsOf(name)...)
		for _, v := range svc.DefaultVariants() {
			if rel.TokenReady.ReadsAtStart(v, svc.Variants[v]) {
				e.Consumers = append(e.Consumers, workload{"spaceone", catalog.WorkloadName(name, v)})
			}
		}
	}
	e.Consumers = append(e.Consumers, workload{"root-supervisor", "supervisor"})
	if len(e.Services) == 0 || !slices.Contains(e.Services, "identity") {
		t.Fatalf("release %s: the catalogue enables no identity service; the expectation is broken", version)
	}
	return e
}

// workloadsOf lists a service's Deployments, one per enabled variant.
func (e expected) workloadsOf(service string) []string {
	var out []string
	for _, v := range e.release.Services[service].DefaultVariants() {
		out = append(out, catalog.WorkloadName(service, v))
	}
	return out
}

// workload is a Deployment by namespace and name (its pods carry app.kubernetes.io/name=name).
type workload struct{ ns, name string }

func (w workload) String() string { return w.ns + "/" + w.name }

// without is the expectation of a stack that switches a service off (spaceone:services).
func (e expected) without(service string) expected {
	out := e
	out.Services = slices.DeleteFunc(slices.Clone(e.Services), func(s string) bool { return s == service })
	gone := e.workloadsOf(service)
	out.Deployments = slices.DeleteFunc(slices.Clone(e.Deployments), func(d string) bool { return slices.Contains(gone, d) })
	out.Consumers = slices.DeleteFunc(slices.Clone(e.Consumers), func(w workload) bool { return w.ns == "spaceone" && slices.Contains(gone, w.name) })
	return out
}
