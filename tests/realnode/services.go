package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Services is the node's kube-proxy and DNS in one: a TCP listener on every ClusterIP:port
// (and on the node address for every NodePort) that forwards each connection to a ready
// endpoint of the Service's EndpointSlices, and the /etc/hosts of every pod, rewritten in
// place whenever a Service or its endpoints change.
type Services struct {
	NodeIP    string // NodePorts listen here
	APIServer string // host:port behind default/kubernetes (the sim runs no endpoint reconciler)
	// Internet are the names outside the cluster the node's DNS answers (stand-ins for hosts
	// on the internet, which the node's network does not reach), name → address.
	Internet map[string]string

	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister

	mu        sync.Mutex
	listeners map[string]net.Listener // "ip:port" → listener
	hosts     map[string]hostsFile    // pod key → its hosts file
	records   map[string]string       // fully qualified name → address (DNS)
	rr        atomic.Uint64
	changed   chan struct{}
}

type hostsFile struct {
	path, namespace, hostname, ip string
}

// Start runs the informers and the reconcile loop until ctx ends.
func (s *Services) Start(ctx context.Context, client kubernetes.Interface) {
	f := informers.NewSharedInformerFactory(client, 30*time.Second)
	svcInf := f.Core().V1().Services()
	epInf := f.Discovery().V1().EndpointSlices()
	s.services, s.slices = svcInf.Lister(), epInf.Lister()
	s.listeners, s.hosts, s.records = map[string]net.Listener{}, map[string]hostsFile{}, map[string]string{}
	s.changed = make(chan struct{}, 1)
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.poke() },
		UpdateFunc: func(any, any) { s.poke() },
		DeleteFunc: func(any) { s.poke() },
	}
	svcInf.Informer().AddEventHandler(h)
	epInf.Informer().AddEventHandler(h)
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	go func() {
		for {
			select {
			case <-ctx.Done():
				s.mu.Lock()
				for _, l := range s.listeners {
					l.Close()
				}
				s.mu.Unlock()
				return
			case <-s.changed:
				s.reconcile()
			}
		}
	}()
	s.poke()
}

func (s *Services) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// AddPod registers a pod's hosts file (and writes it); RemovePod forgets it.
func (s *Services) AddPod(key, path, namespace, hostname, ip string) error {
	s.mu.Lock()
	s.hosts[key] = hostsFile{path, namespace, hostname, ip}
	s.mu.Unlock()
	return s.writeHosts(hostsFile{path, namespace, hostname, ip}, s.entries())
}

func (s *Services) RemovePod(key string) {
	s.mu.Lock()
	delete(s.hosts, key)
	s.mu.Unlock()
}

func (s *Services) reconcile() {
	svcs, err := s.services.List(labels.Everything())
	if err != nil {
		log.Printf("services: %v", err)
		return
	}
	want := map[string]bool{} // addresses to listen on; serve resolves each connection's target
	for _, svc := range svcs {
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			want[net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p.Port)))] = true
			if p.NodePort != 0 {
				want[net.JoinHostPort(s.NodeIP, strconv.Itoa(int(p.NodePort)))] = true
			}
		}
	}
	// One listing serves the DNS records and every pod's hosts file.
	entries := s.entries()
	records := map[string]string{}
	for name, ip := range s.Internet {
		records[name] = ip
	}
	for _, e := range entries {
		for _, n := range e.names {
			if strings.HasSuffix(n, ".svc.cluster.local") {
				records[n] = e.ip
			}
		}
	}
	s.mu.Lock()
	s.records = records
	for addr, l := range s.listeners {
		if _, ok := want[addr]; !ok {
			l.Close()
			delete(s.listeners, addr)
		}
	}
	for addr := range want {
		if _, ok := s.listeners[addr]; ok {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			log.Printf("services: listening on %s: %v", addr, err)
			continue
		}
		s.listeners[addr] = l
		go s.serve(l, addr)
	}

	files := make([]hostsFile, 0, len(s.hosts))
	for _, h := range s.hosts {
		files = append(files, h)
	}
	s.mu.Unlock()
	for _, h := range files {
		if err := s.writeHosts(h, entries); err != nil {
			log.Printf("services: %v", err)
		}
	}
}

// serve forwards every connection on l to a ready endpoint of the Service behind addr.
func (s *Services) serve(l net.Listener, addr string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			dst, err := s.resolve(addr)
			if err != nil {
				log.Printf("services: %s: %v", addr, err)
				return
			}
			u, err := net.DialTimeout("tcp", dst, 5*time.Second)
			if err != nil {
				log.Printf("services: %s → %s: %v", addr, dst, err)
				return
			}
			defer u.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { io.Copy(c, u); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

// resolve finds the Service port behind a listening address and picks a ready endpoint.
func (s *Services) resolve(addr string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	svcs, err := s.services.List(labels.Everything())
	if err != nil {
		return "", err
	}
	for _, svc := range svcs {
		for _, p := range svc.Spec.Ports {
			if (svc.Spec.ClusterIP == host && strconv.Itoa(int(p.Port)) == port) ||
				(host == s.NodeIP && p.NodePort != 0 && strconv.Itoa(int(p.NodePort)) == port) {
				return s.pick(svc.Namespace, svc.Name, p)
			}
		}
	}
	return "", fmt.Errorf("no Service serves %s any more", addr)
}

// pick chooses a ready endpoint of one Service port (round robin).
func (s *Services) pick(namespace, name string, p corev1.ServicePort) (string, error) {
	if namespace == "default" && name == "kubernetes" {
		return s.APIServer, nil
	}
	addrs := s.endpoints(namespace, name, p.Name)
	if len(addrs) == 0 {
		return "", fmt.Errorf("service %s/%s port %d has no ready endpoint", namespace, name, p.Port)
	}
	return addrs[int(s.rr.Add(1))%len(addrs)], nil
}

// endpoints lists ip:port of the ready endpoints of a Service's named port.
func (s *Services) endpoints(namespace, name, portName string) []string {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	slices, err := s.slices.EndpointSlices(namespace).List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, sl := range slices {
		for _, port := range sl.Ports {
			if port.Port == nil || (port.Name != nil && *port.Name != portName) {
				continue
			}
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				for _, a := range ep.Addresses {
					out = append(out, net.JoinHostPort(a, strconv.Itoa(int(*port.Port))))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

type hostEntry struct {
	ip    string
	names []string
	ns    string // the Service's namespace: short names only for pods of that namespace
	short []string
}

// entries lists every Service's addresses and names (and the pods of headless Services by
// hostname), the data of both the hosts files and the DNS server.
func (s *Services) entries() []hostEntry {
	var out []hostEntry
	svcs, _ := s.services.List(labels.Everything())
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Namespace+"/"+svcs[i].Name < svcs[j].Namespace+"/"+svcs[j].Name })
	for _, svc := range svcs {
		entry := func(ip, prefix string) hostEntry {
			fq := prefix + svc.Name + "." + svc.Namespace
			return hostEntry{ip: ip, names: []string{fq, fq + ".svc", fq + ".svc.cluster.local"}, ns: svc.Namespace, short: []string{prefix + svc.Name}}
		}
		if svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			out = append(out, entry(svc.Spec.ClusterIP, ""))
			continue
		}
		sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
		slices, _ := s.slices.EndpointSlices(svc.Namespace).List(sel)
		first := true
		for _, sl := range slices {
			for _, ep := range sl.Endpoints {
				if len(ep.Addresses) == 0 {
					continue
				}
				if first {
					out = append(out, entry(ep.Addresses[0], ""))
					first = false
				}
				if ep.Hostname != nil {
					out = append(out, entry(ep.Addresses[0], *ep.Hostname+"."))
				}
			}
		}
	}
	return out
}

// writeHosts writes one pod's /etc/hosts in place (the file is bind-mounted, so its inode
// must stay): localhost, the pod itself, every Service (short names for its own namespace),
// and the pods of headless Services by hostname.
func (s *Services) writeHosts(h hostsFile, entries []hostEntry) error {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if h.ip != "" {
		fmt.Fprintf(&b, "%s\t%s\n", h.ip, h.hostname)
	}
	for _, e := range entries {
		names := e.names
		if e.ns == h.namespace {
			names = append(append([]string{}, e.short...), names...)
		}
		fmt.Fprintf(&b, "%s\t%s\n", e.ip, strings.Join(names, " "))
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
