package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// MarkdownTable is the README's "What gets deployed" table for a release; a test keeps the
// README equal to it.
func (r *Release) MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| service | variants (default; others available) | image | port | database | calls |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		var on, off []string
		for _, v := range VariantOrder {
			if spec := s.Variants[v]; spec != nil {
				if spec.Enabled {
					on = append(on, v)
				} else {
					off = append(off, v)
				}
			}
		}
		variants := strings.Join(on, ", ")
		if len(off) > 0 {
			variants += "; " + strings.Join(off, ", ")
		}
		if !s.EnabledByDefault() {
			variants = "off by default: " + variants
		}
		calls := append([]string(nil), s.Calls...)
		sort.Strings(calls)
		db := s.Database
		if db == "" {
			db = "–"
		}
		callsText := strings.Join(calls, ", ")
		if callsText == "" {
			callsText = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s:%s` | %d | %s | %s |\n", name, variants, s.Image, s.Tag, GRPCPort, db, callsText)
	}
	for _, name := range []string{"console", "console-api"} {
		f := r.Frontend[name]
		port, calls := 80, "console-api (from the browser)"
		if name == "console-api" {
			calls = "every gRPC service, redis"
		}
		fmt.Fprintf(&b, "| %s | web | `%s:%s` | %d | – | %s |\n", name, f.Repository, f.Tag, port, calls)
	}
	b.WriteString("| mongodb, redis, consul | StatefulSet + PVC | `mongo:6.0.13`, `redis:7.2.4`, `hashicorp/consul:1.15.4` | 27017, 6379, 8500 | – | – |\n")
	return b.String()
}
