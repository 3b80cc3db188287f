package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
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
	tags := t.tagsUnder(addr)
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

// tagsUnder lists, by image name, the tags of the table's images under a registry host.
func (t *Table) tagsUnder(host string) map[string][]string {
	tags := map[string][]string{}
	for image := range t.Images {
		rest, ok := strings.CutPrefix(image, host+"/")
		if i := strings.LastIndex(rest, ":"); ok && i > 0 {
			tags[rest[:i]] = append(tags[rest[:i]], rest[i+1:])
		}
	}
	return tags
}

// DockerHub is the host SpaceONE 1.10's repository asks for a plugin's versions (its
// DockerHubConnector: https://registry.hub.docker.com/v2/repositories/<image>/tags), and the
// prefix of the images its supervisor runs.
const DockerHub = "registry.hub.docker.com"

// serveDockerHub stands in for Docker Hub's own tag listing, which the node's network cannot
// reach: HTTPS on addr with a certificate for DockerHub from a CA of its own, whose
// certificate it writes to caFile (the repository's process trusts that file through
// REQUESTS_CA_BUNDLE, set by its runtime: "@hubca"). Its images are the table's entries
// under DockerHub ("registry.hub.docker.com/<name>:<tag>").
func serveDockerHub(addr, caFile string, t *Table) error {
	cert, caPEM, err := selfSignedFor(DockerHub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		return err
	}
	tags := t.tagsUnder(DockerHub)
	l, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/repositories/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("docker hub: %s %s", r.Method, r.URL)
		name, ok := strings.CutSuffix(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v2/repositories/"), "/"), "/tags")
		w.Header().Set("Content-Type", "application/json")
		if !ok || len(tags[name]) == 0 {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"object not found","errinfo":{}}`))
			return
		}
		var results []map[string]string
		for _, tag := range slices.Sorted(slices.Values(tags[name])) {
			results = append(results, map[string]string{"name": tag})
		}
		json.NewEncoder(w).Encode(map[string]any{"count": len(results), "results": results})
	})
	go func() {
		if err := http.Serve(l, mux); err != nil {
			log.Printf("docker hub: %v", err)
		}
	}()
	return nil
}

// selfSignedFor makes a CA and a serving certificate for host signed by it.
func selfSignedFor(host string) (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "realnode stand-in CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}
