package program

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/devendpoints"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

func TestLocalServiceByIPRoutesTheServiceToTheLaptop(t *testing.T) {
	before := configData(run(t, simConfig()))
	cfg := simConfig()
	cfg["localServices"] = map[string]any{"identity": "192.168.49.1:50061"}
	m := run(t, cfg)
	if m.Find(deployment, "identity") != nil {
		t.Error("identity still runs in the cluster")
	}
	svc := m.Find(service, "identity")
	if svc == nil || svc.KubeName() != "identity" {
		t.Fatal("the identity Service is gone; callers need its name")
	}
	if sel := svc.Object("spec.selector"); sel.HasValue(kube.NameLabel) || len(sel) != 1 {
		t.Errorf("identity Service selector %v, want only the one no pod carries", sel)
	}
	port := svc.Array("spec.ports")[0].ObjectValue()
	if port["port"].NumberValue() != catalog.GRPCPort || port["targetPort"].NumberValue() != 50061 {
		t.Errorf("identity Service port = %v, want %d -> 50061 (the laptop's port)", port, catalog.GRPCPort)
	}
	slice := m.Find("kubernetes:discovery.k8s.io/v1:EndpointSlice", "identity")
	if slice == nil {
		t.Fatal("no EndpointSlice for identity")
	}
	if a := slice.Array("endpoints")[0].ObjectValue()["addresses"].ArrayValue()[0].StringValue(); a != "192.168.49.1" {
		t.Errorf("EndpointSlice address = %s", a)
	}
	if p := slice.Array("ports")[0].ObjectValue()["port"].NumberValue(); p != 50061 {
		t.Errorf("EndpointSlice port = %v", p)
	}
	if l := slice.Object("metadata.labels"); l["kubernetes.io/service-name"].StringValue() != "identity" {
		t.Errorf("EndpointSlice labels = %v", l)
	}
	// Every caller keeps its config unchanged.
	after := configData(m)
	for name, text := range before {
		if strings.HasPrefix(name, "identity-config/") {
			continue
		}
		if after[name] != text {
			t.Errorf("%s changed when identity moved to the laptop", name)
		}
	}
}

func TestLocalServiceByNameIsAnExternalName(t *testing.T) {
	cfg := simConfig()
	cfg["localServices"] = map[string]any{"inventory": "host.minikube.internal:50051", "mongodb": "host.minikube.internal:27017"}
	m := run(t, cfg)
	for _, name := range []string{"inventory", "mongodb"} {
		svc := m.Find(service, name)
		if svc == nil || svc.String("spec.type") != "ExternalName" || svc.String("spec.externalName") != "host.minikube.internal" {
			t.Errorf("%s Service is not an ExternalName for host.minikube.internal", name)
		}
	}
	for _, gone := range []string{"inventory", "inventory-scheduler", "inventory-worker"} {
		if m.Find(deployment, gone) != nil {
			t.Errorf("%s still runs in the cluster", gone)
		}
	}
	if m.Find(stateful, "mongodb") != nil {
		t.Error("mongodb still runs in the cluster")
	}
}

func TestBadLocalServicesAreRefused(t *testing.T) {
	for _, c := range []struct {
		value map[string]any
		key   string
	}{
		{map[string]any{"nosuch": "10.0.0.1:50051"}, "spaceone:localServices.nosuch"},
		{map[string]any{"identity": "10.0.0.1:70000"}, "spaceone:localServices.identity"},
		{map[string]any{"identity": ":50051"}, "spaceone:localServices.identity"},
		{map[string]any{"identity": "10.0.0.1"}, "spaceone:localServices.identity"},
		{map[string]any{"identity": "laptop.local:50061"}, "spaceone:localServices.identity"},
	} {
		cfg := simConfig()
		cfg["localServices"] = c.value
		m, err := testkit.Run(Run, cfg)
		if err == nil || !strings.Contains(err.Error(), c.key+":") {
			t.Errorf("%v: err = %v, want one naming %s", c.value, err, c.key)
		}
		for _, r := range m.Resources {
			if r.Type != "pulumi:pulumi:Stack" {
				t.Errorf("%v: registered %s %s", c.value, r.Type, r.Name)
			}
		}
	}
}

// stackOutputs returns the named outputs of a run, and whether each is a secret.
func stackOutputs(t *testing.T, cfg testkit.Config, names ...string) (map[string]any, map[string]bool) {
	t.Helper()
	values, secret := map[string]any{}, map[string]bool{}
	err := testkit.RunWith(&testkit.Mocks{}, func(ctx *pulumi.Context) error {
		outs, err := Build(ctx)
		if err != nil {
			return err
		}
		for _, n := range names {
			v, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(outs[n]))
			if err != nil {
				return err
			}
			values[n], secret[n] = v.Value, v.Secret
		}
		return nil
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return values, secret
}

// devOutputs returns the devPorts and devConfig outputs of a run.
func devOutputs(t *testing.T, cfg testkit.Config) (map[string]string, map[string]string, bool) {
	t.Helper()
	v, secret := stackOutputs(t, cfg, "devPorts", "devConfig")
	return v["devPorts"].(map[string]string), v["devConfig"].(map[string]string), secret["devConfig"]
}

func TestDevConfigNamesOnlyAddressesTheLaptopCanReach(t *testing.T) {
	for _, expose := range []string{"portForward", "nodePort"} {
		cfg := simConfig()
		cfg["dev"] = map[string]any{"expose": expose, "address": "192.168.49.2"}
		ports, configs, secret := devOutputs(t, cfg)
		if !secret {
			t.Errorf("%s: devConfig is not a secret (it holds database passwords)", expose)
		}
		reachable := map[string]bool{}
		for _, a := range ports {
			reachable[a] = true
		}
		if ports["identity"] != map[string]string{"portForward": "localhost:50151", "nodePort": "192.168.49.2:30151"}[expose] {
			t.Errorf("%s: identity is at %q", expose, ports["identity"])
		}
		text := configs["inventory"]
		if !strings.Contains(text, "DATABASES") || strings.Contains(text, "REMOTE_URL") {
			t.Errorf("%s: inventory devConfig does not inline its database:\n%s", expose, text)
		}
		n := 0
		for svc, text := range configs {
			for _, ep := range regexp.MustCompile(`grpc://([^/\s]+)`).FindAllStringSubmatch(text, -1) {
				if ep[1] == fmt.Sprintf("localhost:%d", catalog.GRPCPort) && svc == "identity" {
					continue // identity's own handlers
				}
				n++
				if !reachable[ep[1]] {
					t.Errorf("%s: %s devConfig names %s, which neither dev-connect nor a NodePort opens", expose, svc, ep[1])
				}
			}
			for _, st := range regexp.MustCompile(`host: (\S+)\n\s+port: ([0-9]+)`).FindAllStringSubmatch(text, -1) {
				if !reachable[st[1]+":"+st[2]] {
					t.Errorf("%s: %s devConfig names store %s:%s, which is not opened", expose, svc, st[1], st[2])
				}
			}
		}
		if n < 30 {
			t.Errorf("%s: only %d endpoints in devConfig", expose, n)
		}
		if expose == "nodePort" {
			m := run(t, cfg)
			if s := m.Find(service, "identity"); s.String("spec.type") != "NodePort" || s.Array("spec.ports")[0].ObjectValue()["nodePort"].NumberValue() != 30151 {
				t.Error("identity is not on NodePort 30151")
			}
		}
	}
}

func TestDevPortsOfExternalStoresAreWhereTheyAre(t *testing.T) {
	for expose, wantMongo := range map[string]string{"portForward": "localhost:27018", "nodePort": "192.168.49.2:30017"} {
		cfg := simConfig()
		cfg["dev"] = map[string]any{"expose": expose, "address": "192.168.49.2"}
		cfg["stores"] = map[string]any{"redis": map[string]any{"external": map[string]any{"host": "redis.example.com", "port": 6390}}}
		ports, configs, _ := devOutputs(t, cfg)
		if ports["redis"] != "redis.example.com:6390" {
			t.Errorf("%s: devPorts.redis = %q, want the external redis.example.com:6390", expose, ports["redis"])
		}
		if ports["mongodb"] != wantMongo {
			t.Errorf("%s: devPorts.mongodb = %q, want %s", expose, ports["mongodb"], wantMongo)
		}
		if !strings.Contains(configs["inventory"], "redis.example.com") {
			t.Errorf("%s: inventory's dev config does not use the external redis:\n%s", expose, configs["inventory"])
		}
	}
}

// Two services on the laptop call each other there: devPorts and devConfig give a laptop
// service the laptop address of every other one (the port localServices names), never the
// forwarded port of its in-cluster Service, which sends traffic back out to the laptop.
func TestLaptopServicesReachEachOtherOnTheLaptop(t *testing.T) {
	cfg := simConfig()
	cfg["localServices"] = map[string]any{"inventory": "192.168.49.1:50061", "repository": "host.minikube.internal:50051"}
	ports, configs, _ := devOutputs(t, cfg)
	want := map[string]string{"inventory": "localhost:50061", "repository": "localhost:50051", "identity": "localhost:50151"}
	for name, addr := range want {
		if ports[name] != addr {
			t.Errorf("devPorts.%s = %q, want %s", name, ports[name], addr)
		}
	}
	rel := release(t, "1.10.4")
	forwarded := fmt.Sprintf("localhost:%d", rel.Services["inventory"].DevPort)
	for svc, text := range configs {
		if strings.Contains(text, "grpc://"+forwarded) {
			t.Errorf("%s devConfig calls inventory at its forwarded port %s, where nothing listens while it runs on the laptop", svc, forwarded)
		}
	}
	// Run on the laptop too, plugin calls the laptop's repository, statistics its inventory.
	for svc, callee := range map[string]string{"plugin": "repository", "statistics": "inventory"} {
		if !strings.Contains(configs[svc], "grpc://"+want[callee]) {
			t.Errorf("%s devConfig does not call %s at %s:\n%s", svc, callee, want[callee], configs[svc])
		}
	}
	// statistics reaches what it stats through its own ServiceConnector, not a per-service one.
	var doc struct {
		Global struct {
			Connectors struct {
				ServiceConnector map[string]string `yaml:"ServiceConnector"`
			} `yaml:"CONNECTORS"`
		} `yaml:"GLOBAL"`
	}
	if err := yaml.Unmarshal([]byte(configs["statistics"]), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Global.Connectors.ServiceConnector["inventory"]; got != "grpc://"+want["inventory"]+"/v1" {
		t.Errorf("statistics devConfig: ServiceConnector.inventory = %q, want grpc://%s/v1", got, want["inventory"])
	}
}

// make dev-connect forwards exactly what runs in the cluster, each to its Service's port, and
// nothing that runs on the laptop: the stack output devEndpoints says which is which.
func TestDevEndpointsSayWhatToForward(t *testing.T) {
	cfg := simConfig()
	cfg["localServices"] = map[string]any{"inventory": "192.168.49.1:50061"}
	v, _ := stackOutputs(t, cfg, "devEndpoints")
	// Read back as dev-connect reads it (cmd/devconnect): as JSON, into the output's one type.
	b, err := json.Marshal(v["devEndpoints"])
	if err != nil {
		t.Fatal(err)
	}
	all, err := devendpoints.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, runs, service string, port int) {
		t.Helper()
		if e := all[name]; e.Runs != runs || e.Service != service || e.ServicePort != port {
			t.Errorf("devEndpoints.%s = %+v, want runs %s, forward to %q:%v", name, e, runs, service, port)
		}
	}
	check("inventory", devendpoints.OnLaptop, "", 0)
	check("identity", devendpoints.InCluster, "identity", catalog.GRPCPort)
	check("mongodb", devendpoints.InCluster, "mongodb", catalog.StorePorts["mongodb"])
	check("consul", devendpoints.InCluster, "consul", catalog.StorePorts["consul"])
}
