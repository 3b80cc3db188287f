// Validation of what Load decoded, section by section (images, service overrides, stores,
// console, dev), built on the value checks of validate.go; each problem names its key.

package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

func (l *loader) checkImages(im *Images) {
	switch im.PullPolicy {
	case "IfNotPresent", "Always", "Never":
	default:
		l.fail("images.pullPolicy", "%q is not a pull policy; use IfNotPresent, Always or Never", im.PullPolicy)
	}
	if im.Registry != "" && (strings.Contains(im.Registry, "://") || strings.HasSuffix(im.Registry, "/") || strings.ContainsAny(im.Registry, " :@") && !registryWithPort(im.Registry)) {
		l.fail("images.registry", "%q is not a registry prefix; write it like registry.example.com:5000/spaceone (no scheme, no trailing /)", im.Registry)
	}
	for i, s := range im.PullSecrets {
		if !isDNSSubdomain(s) {
			l.fail(fmt.Sprintf("images.pullSecrets[%d]", i), "%q is not a Secret name", s)
		}
	}
}

func registryWithPort(r string) bool {
	host, _, _ := strings.Cut(r, "/")
	h, port, ok := strings.Cut(host, ":")
	if !ok || h == "" || strings.ContainsAny(r, " @") {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return port != ""
}

var variantNames = map[string]bool{"grpc": true, "scheduler": true, "worker": true, "rest": true}

func (l *loader) checkServices(svcs map[string]ServiceOverride, known Known) {
	names := make([]string, 0, len(svcs))
	for n := range svcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		o := svcs[name]
		key := "services." + name
		if known != nil && !known.HasService(name) {
			l.fail(key, "%q is not a service of this release; known services: %s", name, strings.Join(known.ServiceNames(), ", "))
			continue
		}
		if o.Tag != "" {
			if err := CheckTag(o.Tag); err != nil {
				l.fail(key+".tag", "%v", err)
			}
		}
		if o.Image != "" && (strings.Contains(o.Image, "@") || strings.Contains(lastSegment(o.Image), ":")) {
			l.fail(key+".image", "%q must be a repository without tag or digest (set the tag in %s.tag)", o.Image, key)
		}
		for v, n := range o.Replicas {
			if !variantNames[v] {
				l.fail(key+".replicas."+v, "%q is not a variant; use grpc, scheduler, worker or rest", v)
			}
			if n < 0 || n > 50 {
				l.fail(key+".replicas."+v, "%d is out of range; use 0 to 50", n)
			}
		}
		for i, v := range o.Variants {
			if !variantNames[v] {
				l.fail(fmt.Sprintf("%s.variants[%d]", key, i), "%q is not a variant; use grpc, scheduler, worker or rest", v)
			}
		}
		if r := o.Resources; r != nil {
			for _, k := range []struct {
				name, v string
				kind    quantityKind
			}{{"cpuRequest", r.CPURequest, cpuQuantity}, {"cpuLimit", r.CPULimit, cpuQuantity},
				{"memoryRequest", r.MemoryRequest, memoryQuantity}, {"memoryLimit", r.MemoryLimit, memoryQuantity}} {
				if k.v == "" {
					continue
				}
				if _, err := CheckQuantity(k.v, k.kind); err != nil {
					l.fail(key+".resources."+k.name, "%v", err)
				}
			}
		}
	}
}

func lastSegment(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}

func (l *loader) checkStores(st *Stores) {
	if st.StorageClass != "" && !isDNSSubdomain(st.StorageClass) {
		l.fail("stores.storageClass", "%q is not a StorageClass name", st.StorageClass)
	}
	var raw map[string]any
	if text, ok := l.src.GetConfig(Project + ":stores"); ok {
		_ = json.Unmarshal([]byte(text), &raw)
	}
	for _, name := range catalog.StoreNames {
		if _, set := raw[name]; set && !slices.Contains(st.inRelease, name) {
			l.fail("stores."+name, "is set, but this release runs no %s (it runs %s); remove spaceone:stores.%s", name, strings.Join(st.inRelease, ", "), name)
		}
	}
	for name, s := range st.ByName() {
		key := "stores." + name
		switch {
		case s.RotateUserPasswords != "" && name != "mongodb":
			l.fail(key+".rotateUserPasswords", "only MongoDB's service users have passwords the stack sets; remove it from stores.%s", name)
		case s.RotateUserPasswords != "" && s.External != nil:
			l.fail(key+".rotateUserPasswords", "MongoDB is external: change its users' passwords there (and mongodbPassword); remove rotateUserPasswords")
		}
		if s.External == nil {
			if _, err := CheckQuantity(s.Size, sizeQuantity); err != nil {
				l.fail(key+".size", "%v", err)
			}
			continue
		}
		if err := CheckHost(s.External.Host); err != nil {
			l.fail(key+".external.host", "%v", err)
		}
		if !isPort(s.External.Port) {
			l.fail(key+".external.port", "%d is not a TCP port (1-65535)", s.External.Port)
		}
	}
	if st.MongoDB.External != nil {
		if st.MongoDB.External.Username == "" {
			l.fail("stores.mongodb.external.username", "is required for an external MongoDB (a user with readWrite on the service databases)")
		}
		if !st.MongoDB.HasPassword {
			l.fail("mongodbPassword", "is required for an external MongoDB: pulumi config set --secret mongodbPassword <password>")
		}
	}
}

func (l *loader) checkConsole(c *Console) {
	switch c.Expose {
	case "portForward":
	case "nodePort":
		if err := CheckHost(c.Address); err != nil {
			l.fail("console.address", "%v (the address your browser reaches the cluster nodes at: minikube ip)", err)
		}
		for k, p := range map[string]int{"console.nodePort": c.NodePort, "console.apiNodePort": c.APINodePort} {
			if p < 30000 || p > 32767 {
				l.fail(k, "%d is outside the NodePort range 30000-32767", p)
			}
		}
		if c.NodePort == c.APINodePort {
			l.fail("console.apiNodePort", "must differ from console.nodePort (%d)", c.NodePort)
		}
	case "ingress":
		if c.IngressClass != "" && !isDNSSubdomain(c.IngressClass) {
			l.fail("console.ingressClass", "%q is not an IngressClass name (e.g. nginx, alb)", c.IngressClass)
		}
		if c.CertificateARN != "" && !arnPattern.MatchString(c.CertificateARN) {
			l.fail("console.certificateArn", "%q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", c.CertificateARN)
		}
		if c.TLSSecret != "" && !isDNSSubdomain(c.TLSSecret) {
			l.fail("console.tlsSecret", "%q is not a Secret name", c.TLSSecret)
		}
		if err := CheckHost(c.Host); err != nil {
			l.fail("console.host", "%v (required when console.expose is ingress)", err)
		}
		if err := CheckHost(c.APIHost); err != nil {
			l.fail("console.apiHost", "%v (required when console.expose is ingress)", err)
		}
	default:
		l.fail("console.expose", "%q is not supported; use portForward, nodePort or ingress", c.Expose)
	}
}

// CheckHost accepts a DNS name or an IPv4 address.
func CheckHost(h string) error {
	if h == "" {
		return errors.New("is empty; give a host name or IP address")
	}
	if isIPv4(h) || isDNSSubdomain(strings.ToLower(h)) {
		return nil
	}
	return fmt.Errorf("%q is not a host name or IPv4 address", h)
}

func strongPassword(pw string) bool {
	var up, low, digit, sym bool
	for _, c := range pw {
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			low = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			sym = true
		}
	}
	return len(pw) >= 8 && up && low && digit && sym
}

func (l *loader) checkDev(d *Dev) {
	switch d.Expose {
	case "portForward":
	case "nodePort":
		if err := CheckHost(d.Address); err != nil {
			l.fail("dev.address", "%v (the node address your laptop reaches: minikube ip)", err)
		}
	default:
		l.fail("dev.expose", "%q: use portForward (make dev-connect) or nodePort (fixed node ports 30151+ on minikube)", d.Expose)
	}
}
