package main

import (
	"encoding/json"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
)

// serveRegistry stands in for a private registry's Docker Registry HTTP API v2, the part
// SpaceONE's repository service reads (HarborConnector): the tag list of an image,
// GET /v2/<name>/tags/list. Its images are the table's entries under its address
// ("@registry/<name>:<tag>"); nothing is pulled from it, as the table is what the node has.
func serveRegistry(addr string, t *Table) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	tags := map[string][]string{}
	for image := range t.Images {
		rest, ok := strings.CutPrefix(image, addr+"/")
		if i := strings.LastIndex(rest, ":"); ok && i > 0 {
			tags[rest[:i]] = append(tags[rest[:i]], rest[i+1:])
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list")
		log.Printf("registry: %s %s", r.Method, r.URL.Path)
		switch {
		case r.URL.Path == "/v2/":
			w.Write([]byte("{}"))
		case ok && len(tags[name]) > 0:
			list := slices.Sorted(slices.Values(tags[name]))
			json.NewEncoder(w).Encode(map[string]any{"name": name, "tags": list})
		default:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}}})
		}
	})
	go func() {
		if err := http.Serve(l, mux); err != nil {
			log.Printf("registry: %v", err)
		}
	}()
	return nil
}
