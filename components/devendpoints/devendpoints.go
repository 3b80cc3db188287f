// Package devendpoints is the stack output devEndpoints: where a laptop reaches each gRPC
// service and store, where that runs, and what `make dev-connect` forwards to it. The program
// writes it (components/program), cmd/devconnect reads it; this is the one definition of its
// shape.
package devendpoints

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Endpoint is one service's or store's entry, keyed by its name.
type Endpoint struct {
	// Address is where the laptop's processes reach it (host:port; devPorts, devConfig).
	Address string `json:"address"`
	// Runs is where it runs: InCluster, OnLaptop (spaceone:localServices) or External.
	Runs string `json:"runs"`
	// Service and ServicePort, when set, are what dev-connect forwards Address's port to: the
	// in-cluster Service of that name, on that port.
	Service     string `json:"service,omitempty"`
	ServicePort int    `json:"servicePort,omitempty"`
}

// Where an Endpoint runs.
const (
	InCluster = "cluster"
	OnLaptop  = "laptop"
	External  = "external"
)

// Map is the output as a map of plain values, as the program registers it.
func Map(endpoints map[string]Endpoint) (map[string]any, error) {
	b, err := json.Marshal(endpoints)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// Parse reads the output as `pulumi stack output devEndpoints --json` prints it.
func Parse(b []byte) (map[string]Endpoint, error) {
	var m map[string]Endpoint
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading the devEndpoints output: %w", err)
	}
	return m, nil
}

// Forward is one port forward dev-connect starts: localhost:LocalPort to the Service's port.
type Forward struct {
	Service                string
	LocalPort, ServicePort int
}

// Forwards are the endpoints dev-connect forwards, by name.
func Forwards(endpoints map[string]Endpoint) (map[string]Forward, error) {
	out := map[string]Forward{}
	for name, e := range endpoints {
		if e.Service == "" {
			continue
		}
		_, port, err := net.SplitHostPort(e.Address)
		local, perr := strconv.Atoi(port)
		if err != nil || perr != nil {
			return nil, fmt.Errorf("devEndpoints.%s: address %q has no port to forward from", name, e.Address)
		}
		out[name] = Forward{Service: e.Service, LocalPort: local, ServicePort: e.ServicePort}
	}
	return out, nil
}

// where says, for what dev-connect does not forward, where it runs.
var where = map[string]string{OnLaptop: "runs-on-your-laptop", External: "outside-the-cluster", InCluster: "on-the-nodes"}

// Table is what dev-connect shows, one line per endpoint in name order: where the laptop
// reaches it, and what that leads to (the Service a forward reaches, in namespace, or where
// it runs).
func Table(endpoints map[string]Endpoint, namespace string) (string, error) {
	forwards, err := Forwards(endpoints)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	line := func(name, laptop, cluster string) { fmt.Fprintf(&b, "%-14s %-28s %s\n", name, laptop, cluster) }
	line("SERVICE", "ON YOUR LAPTOP", "IN THE CLUSTER")
	for _, name := range slices.Sorted(maps.Keys(endpoints)) {
		e := endpoints[name]
		if f, ok := forwards[name]; ok {
			line(name, e.Address, fmt.Sprintf("svc/%s:%d -n %s", f.Service, f.ServicePort, namespace))
		} else {
			line(name, e.Address, "("+where[e.Runs]+")")
		}
	}
	return b.String(), nil
}
