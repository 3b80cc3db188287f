package main

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
)

// Network gives each pod a network namespace of its own, joined to a bridge in the agent's
// namespace by a veth pair, with an address from the node's pod range. Nothing here leaves
// the agent's namespace, which the tests create with only loopback in it.
type Network struct {
	Bridge     string       // bridge device in the agent's namespace
	Prefix     netip.Prefix // pod range; its first address is the bridge's (the pods' gateway)
	ServiceNet netip.Prefix // ClusterIP range: routed locally, served by the Service proxy
	Tag        string       // short, unique per agent: netns and device names carry it

	mu   sync.Mutex
	next netip.Addr
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Gateway is the bridge's address: the pods' default route and DNS server.
func (n *Network) Gateway() netip.Addr { return n.Prefix.Addr().Next() }

// Setup creates the bridge and the local route for the ClusterIP range.
func (n *Network) Setup() error {
	gw := n.Prefix.Addr().Next()
	n.next = gw.Next()
	for _, c := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", n.Bridge, "type", "bridge"},
		{"ip", "addr", "add", netip.PrefixFrom(gw, n.Prefix.Bits()).String(), "dev", n.Bridge},
		{"ip", "link", "set", n.Bridge, "up"},
		// Every ClusterIP is local here, so the proxy can listen on any of them.
		{"ip", "route", "add", "local", n.ServiceNet.String(), "dev", "lo"},
	} {
		if err := run(c...); err != nil {
			return err
		}
	}
	return nil
}

// Teardown removes the bridge and the route (pod namespaces are removed with their pods).
func (n *Network) Teardown() {
	run("ip", "route", "del", "local", n.ServiceNet.String(), "dev", "lo")
	run("ip", "link", "del", n.Bridge)
}

// PodNet is one pod's network namespace.
type PodNet struct {
	Name string // network namespace name (ip netns)
	IP   netip.Addr
	veth string
}

// Path is the namespace's file, for nsenter --net.
func (p *PodNet) Path() string { return "/run/netns/" + p.Name }

// Add creates a pod's namespace, its veth pair and address.
func (n *Network) Add(id string) (*PodNet, error) {
	n.mu.Lock()
	ip := n.next
	n.next = n.next.Next()
	n.mu.Unlock()
	if !n.Prefix.Contains(ip) {
		return nil, fmt.Errorf("pod range %s exhausted", n.Prefix)
	}
	p := &PodNet{Name: "rn-" + n.Tag + "-" + id, IP: ip, veth: "rnv" + n.Tag + id}
	gw := n.Prefix.Addr().Next()
	steps := [][]string{
		{"ip", "netns", "add", p.Name},
		{"ip", "link", "add", p.veth, "type", "veth", "peer", "name", "eth0", "netns", p.Name},
		{"ip", "link", "set", p.veth, "master", n.Bridge, "up"},
		{"ip", "-n", p.Name, "link", "set", "lo", "up"},
		{"ip", "-n", p.Name, "addr", "add", netip.PrefixFrom(ip, n.Prefix.Bits()).String(), "dev", "eth0"},
		{"ip", "-n", p.Name, "link", "set", "eth0", "up"},
		{"ip", "-n", p.Name, "route", "add", "default", "via", gw.String()},
	}
	for _, c := range steps {
		if err := run(c...); err != nil {
			n.Remove(p)
			return nil, err
		}
	}
	return p, nil
}

// Remove deletes a pod's namespace (its veth pair goes with it).
func (n *Network) Remove(p *PodNet) {
	run("ip", "link", "del", p.veth)
	run("ip", "netns", "del", p.Name)
}
