package platform

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/devendpoints"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// DevEndpoint is where a laptop reaches one gRPC service or store, and how (the stack
// outputs devPorts and devEndpoints).
type DevEndpoint struct {
	// At is where the laptop's processes reach it (devPorts, devConfig).
	At microservice.Endpoint
	// Runs is where it runs: devendpoints.InCluster, OnLaptop (spaceone:localServices) or
	// External (an external store).
	Runs string
	// Service and ServicePort, when set, are what `make dev-connect` forwards Address's port
	// to: the in-cluster Service of that name, on that port.
	Service     string
	ServicePort int
}

// Address is At as host:port.
func (e DevEndpoint) Address() string { return fmt.Sprintf("%s:%d", e.At.Host, e.At.Port) }

// Output is the endpoint as the stack output devEndpoints holds it.
func (e DevEndpoint) Output() devendpoints.Endpoint {
	return devendpoints.Endpoint{Address: e.Address(), Runs: e.Runs, Service: e.Service, ServicePort: e.ServicePort}
}

// devAccess computes where a laptop reaches every gRPC service and store — forwarded to
// localhost by `make dev-connect`, on the nodes with dev.expose nodePort, on the laptop itself
// for what spaceone:localServices routes there — and, per service, the config file to run it
// on the laptop: the in-cluster config with every endpoint rewritten to those addresses and
// the database login inlined (so the whole map is a secret).
func (p *Platform) devAccess(args *Args) error {
	s := args.Settings
	// Where the laptop reaches what runs in the cluster: a forward to localhost (name is the
	// Service, port its port), or the node with dev.expose nodePort.
	inCluster := func(name string, port, devPort, nodePort int) DevEndpoint {
		if s.Dev.Expose == "nodePort" {
			return DevEndpoint{At: microservice.Endpoint{Host: s.Dev.Address, Port: nodePort}, Runs: devendpoints.InCluster}
		}
		return DevEndpoint{At: microservice.Endpoint{Host: "localhost", Port: devPort}, Runs: devendpoints.InCluster, Service: name, ServicePort: port}
	}
	// What localServices routes to the laptop runs beside the laptop's other processes: they
	// call it on the laptop, on the port the cluster's Service sends to.
	onLaptop := func(name string) (DevEndpoint, bool) {
		a, ok := s.LocalServices[name]
		return DevEndpoint{At: microservice.Endpoint{Host: "localhost", Port: a.Port}, Runs: devendpoints.OnLaptop}, ok
	}
	p.DevEndpoints = map[string]DevEndpoint{}
	// On the laptop the log file goes to the directory the service is started in.
	// With the key in a Secret, the laptop reads it from ./token.yaml (make dev-connect prints how to copy it).
	w := microservice.Wiring{GRPC: map[string]string{}, Domain: s.Domain, LogDir: ".",
		KeyHandoff: args.Plan.Release.APIKey.Handoff, KeyFile: "./" + apikey.FileName}
	for _, sp := range args.Plan.Services {
		e, local := onLaptop(sp.Name)
		if !local {
			e = inCluster(sp.Name, catalog.GRPCPort, sp.DevPort, sp.DevNodePort())
		}
		p.DevEndpoints[sp.Name] = e
		w.GRPC[sp.Name] = e.Address()
	}
	// In-cluster stores are forwarded like the services; external ones are reached where they are.
	endpoint := map[string]stores.Endpoint{ // where the cluster reaches each store
		"mongodb": p.MongoDB.Endpoint, "redis": p.Redis.Endpoint}
	if p.Consul != nil {
		endpoint["consul"] = p.Consul.Endpoint
	}
	storeAddr := map[string]microservice.Endpoint{}
	for name, st := range s.Stores.ByName() {
		e, local := onLaptop(name)
		switch {
		case local:
		case st.External != nil:
			e = DevEndpoint{At: microservice.Endpoint{Host: endpoint[name].Host, Port: endpoint[name].Port}, Runs: devendpoints.External}
		default:
			e = inCluster(name, catalog.StorePorts[name], stores.DevPorts[name].Port, stores.DevPorts[name].NodePort)
		}
		storeAddr[name] = e.At
		p.DevEndpoints[name] = e
	}
	w.Redis, w.Consul = storeAddr["redis"], storeAddr["consul"]

	configs := pulumi.StringMap{}
	for _, n := range slices.Sorted(maps.Keys(args.Plan.ByName)) {
		sp := args.Plan.ByName[n]
		text, err := microservice.RenderConfig(sp.Service, "grpc", w, sp.Extra)
		if err != nil {
			return fmt.Errorf("devConfig %s: %w", n, err)
		}
		if sp.Database == "" {
			configs[n] = pulumi.String(text)
			continue
		}
		svc, user := sp.Service, p.MongoDB.Username(n)
		configs[n] = p.MongoDB.Password(n).ApplyT(func(pw string) (string, error) {
			return microservice.InlineDatabase(text, svc, storeAddr["mongodb"], user, pw)
		}).(pulumi.StringOutput)
	}
	p.DevConfig = pulumi.ToSecret(configs.ToStringMapOutput()).(pulumi.StringMapOutput)
	return nil
}
