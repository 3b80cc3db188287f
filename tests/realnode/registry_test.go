package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const registryTable = `images:
  "@registry/team/collector:1.10.4": {cmd: [x]}
  "@registry/team/collector:1.12.12": {cmd: [x]}
  registry.hub.docker.com/team/collector:1.10.4: {cmd: [x]}
  team/other:1.0.0: {cmd: [x]}
`

// The stand-in registry lists the tags of the table's images under its address, as a
// registry's v2 API does, and knows no other image.
func TestRegistryListsTheTablesTags(t *testing.T) {
	addr := freeAddr(t)
	table, err := LoadTable([]byte(registryTable), "/", Sources{Registry: addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := serveRegistry(addr, table); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tags []string `json:"tags"`
	}
	res, err := http.Get("http://" + addr + "/v2/team/collector/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	if !slices.Equal(got.Tags, []string{"1.10.4", "1.12.12"}) {
		t.Errorf("tags = %v, want the two under the registry's address", got.Tags)
	}
	if res, err := http.Get("http://" + addr + "/v2/team/other/tags/list"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("an image not under the registry: %v, %v; want 404", res, err)
	}
}

// The Docker Hub stand-in answers Docker Hub's tag listing over TLS, with a certificate for
// registry.hub.docker.com that its CA file verifies.
func TestDockerHubStandInListsTagsOverTLS(t *testing.T) {
	addr := freeAddr(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	table, err := LoadTable([]byte(registryTable), "/", Sources{Registry: "elsewhere:5000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := serveDockerHub(addr, caFile, table); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	res, err := client.Get("https://" + DockerHub + "/v2/repositories/team/collector/tags?page_size=1024")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct {
		Results []struct {
			Name string `json:"name"`
		} `json:"results"`
	}
	json.NewDecoder(res.Body).Decode(&got)
	if len(got.Results) != 1 || got.Results[0].Name != "1.10.4" {
		t.Errorf("results = %+v, want the one tag under Docker Hub", got.Results)
	}
}
