package platform

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// ServicePlan is one backend service as this stack runs it: the catalogue entry with the
// stack's overrides applied.
type ServicePlan struct {
	*catalog.Service
	Image     string // full reference
	ImageTag  string
	Variants  []string
	Replicas  map[string]int
	Resources catalog.Resources
	Extra     map[string]any // merged into every variant's GLOBAL config
	// Local, when set, means the service runs outside the cluster (spaceone:localServices).
	Local *microservice.Endpoint
}

// Plan is the resolved release: which services run, how, and in which order.
type Plan struct {
	Release  *catalog.Release
	Services []*ServicePlan // dependencies first
	ByName   map[string]*ServicePlan
	// Upgrade, when set, is the move of the data from the release the stack deployed, which
	// this up makes before the release's services start.
	Upgrade *Upgrade
	// StartOrder is what waits for what, and the order of the components: NewStartOrder, once
	// Upgrade is settled.
	StartOrder *StartOrder
	// KeyRepair marks the up that found the API key gone from where the release keeps it (a
	// time, kept in the stack's outputs; "" = never): the initializer runs again and makes a
	// new key, the key's Secrets are made again, and the consumers restart.
	KeyRepair string
}

// Upgrade is a move of a stack's data between releases (catalogue upgradeFrom).
type Upgrade struct{ From, To string }

// DataJobImage is the image the platform's data Jobs run in: the catalogue's dataJobs
// service's, as this stack pulls it (registry, image and tag overrides).
func (p *Plan) DataJobImage() string { return p.ByName[p.Release.DataJobs].Image }

// NewPlan applies the stack's overrides to the release catalogue and checks the result, so
// that every mistake is reported before any resource is registered.
func NewPlan(s *settings.Settings, rel *catalog.Release) (*Plan, error) {
	var problems settings.Problems
	fail := func(key, format string, a ...any) {
		problems = append(problems, settings.Problem{Key: settings.Project + ":" + key, Message: fmt.Sprintf(format, a...)})
	}
	p := &Plan{Release: rel, ByName: map[string]*ServicePlan{}}
	for _, name := range rel.ServiceNames() {
		svc := rel.Services[name]
		o := s.Services[name]
		enabled := svc.EnabledByDefault()
		if o.Enabled != nil {
			enabled = *o.Enabled
		}
		addr, local := s.LocalServices[name]
		if !enabled {
			if local {
				fail("localServices."+name, "routes %s to %s:%d, but services.%s.enabled is false; remove one of the two", name, addr.Host, addr.Port, name)
			}
			continue
		}
		sp := &ServicePlan{Service: svc, ImageTag: svc.Tag, Variants: svc.DefaultVariants(), Replicas: o.Replicas, Extra: o.Config}
		repo := svc.Image
		if o.Image != "" {
			repo = o.Image
		}
		if o.Tag != "" {
			sp.ImageTag = o.Tag
		}
		if err := settings.CheckTag(sp.ImageTag); err != nil {
			fail("services."+name+".tag", "%v", err)
		}
		sp.Image = kube.Image(repo, sp.ImageTag, s.Images.Registry)
		if o.Variants != nil {
			sp.Variants = nil
			for i, v := range o.Variants {
				if svc.Variants[v] == nil {
					fail(fmt.Sprintf("services.%s.variants[%d]", name, i), "%s has no %q variant in release %s; it has %v", name, v, rel.Version, variantsOf(svc))
					continue
				}
				sp.Variants = append(sp.Variants, v)
			}
			if !slices.Contains(sp.Variants, "grpc") {
				fail("services."+name+".variants", "must include grpc: the gRPC server is what the other services and the console call")
			}
		}
		for v := range o.Replicas {
			if !slices.Contains(sp.Variants, v) {
				fail("services."+name+".replicas."+v, "%s does not run a %q variant in this stack (variants: %v)", name, v, sp.Variants)
			}
		}
		sp.Resources = mergeResources(rel.Resources, svc.Resources)
		if r := o.Resources; r != nil {
			sp.Resources = mergeResources(sp.Resources, catalog.Resources{CPURequest: r.CPURequest, MemoryRequest: r.MemoryRequest, CPULimit: r.CPULimit, MemoryLimit: r.MemoryLimit})
			// The relation holds between the values in force, the release's included.
			for _, pair := range [][3]string{{"cpu", sp.Resources.CPURequest, sp.Resources.CPULimit}, {"memory", sp.Resources.MemoryRequest, sp.Resources.MemoryLimit}} {
				req, errR := resource.ParseQuantity(pair[1])
				lim, errL := resource.ParseQuantity(pair[2])
				if errR != nil || errL != nil {
					continue // settings.Load reported it
				}
				if err := settings.CheckRequestLimit(req, lim); err != nil {
					fail("services."+name+".resources."+pair[0]+"Limit", "%s %v", pair[0], err)
				}
			}
		}
		if local {
			sp.Local = &microservice.Endpoint{Host: addr.Host, Port: addr.Port}
		}
		p.ByName[name] = sp
	}
	// A service whose callee is switched off would fail at its first call: refuse it now.
	for _, name := range slices.Sorted(maps.Keys(p.ByName)) {
		for _, callee := range p.ByName[name].Calls {
			if p.ByName[callee] == nil {
				fail("services."+callee+".enabled", "%s is switched off, but %s calls it; enable it or also switch off %s", callee, name, name)
			} else if n, set := p.ByName[callee].Replicas["grpc"]; set && n == 0 && p.ByName[callee].Local == nil {
				fail("services."+callee+".replicas.grpc", "is 0, but %s calls %s; give it 1 or more, serve it from your laptop (localServices), or switch off %s", name, callee, name)
			}
		}
	}
	// The plugins' registry (spaceone:plugins): the repository finds their versions there.
	if host, repo := s.PluginRegistry(), p.ByName["repository"]; host != "" && repo != nil {
		repo.Extra = catalog.Merge(pluginRegistryConfig(host, s.Images.InsecureRegistry), repo.Extra)
	}
	problems = append(problems, nodePortClashes(s, p)...)
	if len(problems) > 0 {
		return nil, problems
	}
	p.Services = startOrder(p.ByName)
	return p, nil
}

// startOrder sorts services so that every service comes after the services it calls.
func startOrder(byName map[string]*ServicePlan) []*ServicePlan {
	var out []*ServicePlan
	done := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, c := range byName[n].Calls {
			visit(c)
		}
		out = append(out, byName[n])
	}
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		visit(n)
	}
	return out
}

func mergeResources(base, over catalog.Resources) catalog.Resources {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return catalog.Resources{
		CPURequest: pick(base.CPURequest, over.CPURequest), MemoryRequest: pick(base.MemoryRequest, over.MemoryRequest),
		CPULimit: pick(base.CPULimit, over.CPULimit), MemoryLimit: pick(base.MemoryLimit, over.MemoryLimit),
	}
}

func variantsOf(s *catalog.Service) []string {
	var out []string
	for _, v := range catalog.VariantOrder {
		if s.Variants[v] != nil {
			out = append(out, v)
		}
	}
	return out
}

// nodePortClashes refuses two Services on one node port: the console's, console-api's and,
// with dev.expose nodePort, every gRPC service's and store's fixed dev port.
func nodePortClashes(s *settings.Settings, p *Plan) settings.Problems {
	type use struct{ key, what string }
	var uses []use
	var ports []int
	add := func(port int, key, what string) { ports, uses = append(ports, port), append(uses, use{key, what}) }
	if s.Console.On() && s.Console.Expose == "nodePort" {
		add(s.Console.NodePort, "console.nodePort", "the console")
		add(s.Console.APINodePort, "console.apiNodePort", catalog.WorkloadConsoleAPI)
	}
	if s.Dev.Expose == "nodePort" {
		for _, name := range slices.Sorted(maps.Keys(p.ByName)) {
			if p.ByName[name].Local == nil {
				add(p.ByName[name].DevNodePort(), "dev.expose", name+"'s dev port (dev.expose nodePort)")
			}
		}
		for _, store := range s.InClusterStores() {
			add(stores.DevPorts[store].NodePort, "dev.expose", store+"'s dev port (dev.expose nodePort)")
		}
	}
	var problems settings.Problems
	first := map[int]int{}
	for i, port := range ports {
		j, taken := first[port]
		if !taken {
			first[port] = i
			continue
		}
		// Name the setting the user chose (the console's) rather than the fixed dev ports.
		key, other := uses[i].key, uses[j]
		if key == "dev.expose" && other.key != "dev.expose" {
			key, other = other.key, uses[i]
		}
		problems = append(problems, settings.Problem{Key: settings.Project + ":" + key,
			Message: fmt.Sprintf("node port %d is also %s; pick another port in 30000-32767", port, other.what)})
	}
	return problems
}
