// Values derived from valid settings: the console URLs, the in-cluster stores.

package settings

import (
	"fmt"
	"sort"
)

// The laptop ports kubectl port-forward gives console and console-api (console.expose portForward).
const (
	ConsoleForwardPort    = 8080
	ConsoleAPIForwardPort = 8081
)

// ConsoleAPIURL is console-api as the browser reaches it.
func (s *Settings) ConsoleAPIURL() string {
	return s.consoleURL(s.Console.APINodePort, s.Console.APIHost, ConsoleAPIForwardPort)
}

// ConsoleURL is the console as the browser reaches it.
func (s *Settings) ConsoleURL() string {
	return s.consoleURL(s.Console.NodePort, s.Console.Host, ConsoleForwardPort)
}

// consoleURL is where the browser reaches console or console-api, given its node port, its
// ingress host and its forwarded laptop port.
func (s *Settings) consoleURL(nodePort int, host string, forwardPort int) string {
	switch s.Console.Expose {
	case "nodePort":
		return fmt.Sprintf("http://%s:%d", s.Console.Address, nodePort)
	case "ingress":
		return s.scheme() + host
	default:
		return fmt.Sprintf("http://localhost:%d", forwardPort)
	}
}

func (s *Settings) scheme() string {
	if s.Console.TLSSecret != "" || s.Console.CertificateARN != "" {
		return "https://"
	}
	return "http://"
}

// InClusterStores are the stores that run in the cluster: neither external nor routed to a
// developer's laptop (localServices). Sorted, so the resources they produce keep their order.
func (s *Settings) InClusterStores() []string {
	var names []string
	for name, st := range s.Stores.ByName() {
		if _, local := s.LocalServices[name]; st.External == nil && !local {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// SupervisorEnabled reports whether the plugin runner is deployed (default yes).
func (s *Settings) SupervisorEnabled() bool {
	return s.Supervisor.Enabled == nil || *s.Supervisor.Enabled
}
