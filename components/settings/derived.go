// Values derived from valid settings: the console URLs, the in-cluster stores.

package settings

import (
	"fmt"
	"sort"
)

// ConsoleAPIURL is console-api as the browser reaches it.
func (s *Settings) ConsoleAPIURL() string {
	switch s.Console.Expose {
	case "nodePort":
		return fmt.Sprintf("http://%s:%d", s.Console.Address, s.Console.APINodePort)
	case "ingress":
		return s.scheme() + s.Console.APIHost
	default:
		return "http://localhost:8081" // kubectl port-forward svc/console-api 8081:80
	}
}

// ConsoleURL is the console as the browser reaches it.
func (s *Settings) ConsoleURL() string {
	switch s.Console.Expose {
	case "nodePort":
		return fmt.Sprintf("http://%s:%d", s.Console.Address, s.Console.NodePort)
	case "ingress":
		return s.scheme() + s.Console.Host
	default:
		return "http://localhost:8080" // kubectl port-forward svc/console 8080:80
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
