package platform

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// devAccess computes where a laptop reaches every gRPC service and store — forwarded to
// localhost by `make dev-connect`, or on the nodes with dev.expose nodePort — and, per service,
// the config file to run it on the laptop: the in-cluster config with every endpoint rewritten
// to those addresses and the database login inlined (so the whole map is a secret).
func (p *Platform) devAccess(args *Args) error {
	s := args.Settings
	// Where the laptop reaches a forwarded port: localhost, or the node with dev.expose nodePort.
	reach := func(port, nodePort int) microservice.Endpoint {
		if s.Dev.Expose == "nodePort" {
			return microservice.Endpoint{Host: s.Dev.Address, Port: nodePort}
		}
		return microservice.Endpoint{Host: "localhost", Port: port}
	}
	address := func(e microservice.Endpoint) string { return fmt.Sprintf("%s:%d", e.Host, e.Port) }
	p.DevPorts = map[string]string{}
	// On the laptop the log file goes to the directory the service is started in.
	// With the key in a Secret, the laptop reads it from ./token.yaml (make dev-connect prints how to copy it).
	w := microservice.Wiring{GRPC: map[string]string{}, Domain: s.Domain, LogDir: ".",
		KeyHandoff: args.Plan.Release.APIKey.Handoff, KeyFile: "./" + apikey.FileName}
	for _, sp := range args.Plan.Services {
		a := address(reach(sp.DevPort, sp.DevNodePort()))
		p.DevPorts[sp.Name] = a
		w.GRPC[sp.Name] = a
	}
	// In-cluster stores are forwarded like the services; external ones are reached where they are.
	endpoint := map[string]stores.Endpoint{ // where the cluster reaches each store
		"mongodb": p.MongoDB.Endpoint, "redis": p.Redis.Endpoint}
	if p.Consul != nil {
		endpoint["consul"] = p.Consul.Endpoint
	}
	storeAddr := map[string]microservice.Endpoint{}
	for name, st := range s.Stores.ByName() {
		e := reach(stores.DevPorts[name].Port, stores.DevPorts[name].NodePort)
		if st.External != nil {
			e = microservice.Endpoint{Host: endpoint[name].Host, Port: endpoint[name].Port}
		}
		storeAddr[name] = e
		p.DevPorts[name] = address(e)
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
