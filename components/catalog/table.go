package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// MarkdownTable is the README's "What gets deployed" table for a release, with the stores'
// images as given (package stores pins them); a test keeps the README equal to it.
func (r *Release) MarkdownTable(storeImages map[string]string) string {
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
	for _, name := range []string{WorkloadConsole, WorkloadConsoleAPI} {
		f := r.Frontend[name]
		port, calls := 80, "console-api (from the browser)"
		if name == WorkloadConsoleAPI {
			calls = "every gRPC service, redis"
		}
		fmt.Fprintf(&b, "| %s | web | `%s:%s` | %d | – | %s |\n", name, f.Repository, f.Tag, port, calls)
	}
	var images, ports []string
	for _, st := range r.StoreNames() {
		images = append(images, "`"+storeImages[st]+"`")
		ports = append(ports, fmt.Sprint(StorePorts[st]))
	}
	fmt.Fprintf(&b, "| %s | StatefulSet + PVC | %s | %s | – | – |\n", strings.Join(r.StoreNames(), ", "), strings.Join(images, ", "), strings.Join(ports, ", "))
	return b.String()
}
