package program

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

func run(t *testing.T, cfg testkit.Config, secretKeys ...string) *testkit.Mocks {
	t.Helper()
	m, err := testkit.Run(Run, cfg, secretKeys...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func release(t *testing.T, version string) *catalog.Release {
	t.Helper()
	rel, err := catalog.Load(version)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// releaseConfig is the sim stack's config with another release.
func releaseConfig(version string) testkit.Config {
	cfg := simConfig()
	cfg["release"] = version
	return cfg
}

// forEachRelease runs test as a subtest per catalogued release, with the sim stack's config
// set to that release: what a test expects comes from the catalogue, so a release whose
// objects differ from the default's (1.12's token consumers start later) is checked too.
func forEachRelease(t *testing.T, test func(t *testing.T, rel *catalog.Release, cfg testkit.Config)) {
	for _, version := range catalog.Versions() {
		t.Run(version, func(t *testing.T) { test(t, release(t, version), releaseConfig(version)) })
	}
}

const (
	deployment = "kubernetes:apps/v1:Deployment"
	service    = "kubernetes:core/v1:Service"
	configMap  = "kubernetes:core/v1:ConfigMap"
	secretType = "kubernetes:core/v1:Secret"
	stateful   = "kubernetes:apps/v1:StatefulSet"
)

func TestEveryCatalogueServiceHasItsObjects(t *testing.T) {
	forEachRelease(t, everyCatalogueServiceHasItsObjects)
}

func everyCatalogueServiceHasItsObjects(t *testing.T, rel *catalog.Release, cfg testkit.Config) {
	m := run(t, cfg)
	for _, name := range rel.ServiceNames() {
		svc := rel.Services[name]
		if !svc.EnabledByDefault() {
			if m.Find(deployment, name) != nil {
				t.Errorf("%s is off by default but deployed", name)
			}
			continue
		}
		for _, v := range svc.DefaultVariants() {
			wl := catalog.WorkloadName(name, v)
			d := m.Find(deployment, wl)
			if d == nil {
				t.Errorf("no Deployment %s", wl)
				continue
			}
			if m.Find(configMap, wl+"-config") == nil {
				t.Errorf("no ConfigMap for %s", wl)
			}
		}
		s := m.Find(service, name)
		if s == nil {
			t.Errorf("no Service %s", name)
			continue
		}
		if s.KubeName() != name {
			t.Errorf("Service of %s is named %q; every config refers to %q", name, s.KubeName(), name)
		}
		if svc.Database != "" && m.Find(secretType, name+"-database") == nil {
			t.Errorf("no database Secret for %s", name)
		}
	}
	for _, fe := range []string{"console", "console-api"} {
		if m.Find(deployment, fe) == nil || m.Find(service, fe) == nil {
			t.Errorf("frontend %s lacks its Deployment or Service", fe)
		}
	}
}

// servicePorts maps "name:port" of every Service the stack creates.
func servicePorts(m *testkit.Mocks) map[string]bool {
	out := map[string]bool{}
	for _, s := range m.OfType(service) {
		for _, p := range s.Array("spec.ports") {
			port := p.ObjectValue()["port"]
			out[fmt.Sprintf("%s:%v", s.KubeName(), port.NumberValue())] = true
			out[fmt.Sprintf("%s.%s.svc.cluster.local:%v", s.KubeName(), s.String("metadata.namespace"), port.NumberValue())] = true
		}
	}
	return out
}

var endpointRe = regexp.MustCompile(`grpc://([a-z0-9.-]+):([0-9]+)`)

func configData(m *testkit.Mocks) map[string]string {
	out := map[string]string{}
	for _, c := range m.OfType(configMap) {
		for k, v := range c.Object("data") {
			out[c.Name+"/"+string(k)] = v.StringValue()
		}
	}
	return out
}

func TestEveryConfiguredEndpointIsAServiceOfTheStack(t *testing.T) {
	forEachRelease(t, func(t *testing.T, _ *catalog.Release, cfg testkit.Config) { everyConfiguredEndpointIsAService(t, cfg) })
}

func everyConfiguredEndpointIsAService(t *testing.T, cfg testkit.Config) {
	m := run(t, cfg)
	ports := servicePorts(m)
	n := 0
	for name, text := range configData(m) {
		for _, ep := range endpointRe.FindAllStringSubmatch(text, -1) {
			if ep[1] == "localhost" {
				continue // identity checks tokens against itself
			}
			n++
			if !ports[ep[1]+":"+ep[2]] {
				t.Errorf("%s names %s, which is no Service port of the stack", name, ep[0])
			}
		}
		for _, store := range regexp.MustCompile(`host: ([a-z0-9.-]+)\n\s+port: ([0-9]+)`).FindAllStringSubmatch(text, -1) {
			if !ports[store[1]+":"+store[2]] {
				t.Errorf("%s names store %s:%s, which is no Service port of the stack", name, store[1], store[2])
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d endpoints found in configs; the scan is broken", n)
	}
}

func TestSelectorsMatchPodLabels(t *testing.T) {
	m := run(t, simConfig())
	podLabels := map[string]resource.PropertyMap{}
	for _, typ := range []string{deployment, stateful} {
		for _, d := range m.OfType(typ) {
			sel := d.Object("spec.selector.matchLabels")
			labels := d.Object("spec.template.metadata.labels")
			if len(sel) == 0 {
				t.Errorf("%s has no selector", d.Name)
			}
			for k, v := range sel {
				if labels[k] != v {
					t.Errorf("%s selector %s=%v does not match its pod label %v", d.Name, k, v, labels[k])
				}
			}
			podLabels[d.Name] = labels
		}
	}
	for _, s := range m.OfType(service) {
		sel := s.Object("spec.selector")
		matched := 0
		for _, labels := range podLabels {
			ok := true
			for k, v := range sel {
				if labels[k] != v {
					ok = false
				}
			}
			if ok {
				matched++
			}
		}
		if matched != 1 {
			t.Errorf("Service %s selects the pods of %d workloads, want exactly 1", s.KubeName(), matched)
		}
	}
}

// secretValues are the decoded values of every Secret the stack creates.
func secretValues(m *testkit.Mocks) []string {
	var out []string
	for _, s := range m.OfType(secretType) {
		for k, v := range s.Object("data") {
			if v.IsSecret() {
				v = v.SecretValue().Element
			}
			if b, err := base64.StdEncoding.DecodeString(v.StringValue()); err == nil {
				out = append(out, string(b))
				if k == "database.yaml" || k == "main.yaml" {
					for _, line := range strings.Split(string(b), "\n") {
						if k, val, ok := strings.Cut(strings.TrimSpace(line), "password: "); ok && k == "" {
							out = append(out, val)
						}
					}
				}
			}
		}
		for _, v := range s.Object("stringData") {
			if v.IsSecret() {
				v = v.SecretValue().Element
			}
			out = append(out, v.StringValue())
			// database.yaml holds the password as one of its lines
			for _, line := range strings.Split(v.StringValue(), "\n") {
				if k, val, ok := strings.Cut(strings.TrimSpace(line), "password: "); ok && k == "" {
					out = append(out, val)
				}
			}
		}
	}
	return out
}

func TestNoSecretValueInAnyConfigMap(t *testing.T) {
	m := run(t, simConfig())
	secrets := secretValues(m)
	if len(secrets) < 10 {
		t.Fatalf("found only %d secret values; expected the Mongo root, users and database files", len(secrets))
	}
	for name, text := range configData(m) {
		for _, s := range secrets {
			if len(s) >= 16 && strings.Contains(text, s) {
				t.Errorf("ConfigMap %s contains a secret value", name)
			}
		}
		for _, m := range regexp.MustCompile(`password:\s*(.*)`).FindAllStringSubmatch(text, -1) {
			if !strings.HasPrefix(strings.Trim(m[1], `'"`), "${{ var.") {
				t.Errorf("ConfigMap %s has a password value %q (only a reference to the secret var file is allowed)", name, m[1])
			}
		}
	}
}

var pinned = regexp.MustCompile(`^[a-z0-9./-]+(:[0-9]+)?[a-z0-9./_-]*:[0-9]+\.[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z.]+)?$`)

func images(m *testkit.Mocks) map[string]string {
	out := map[string]string{}
	for _, typ := range []string{deployment, stateful} {
		for _, d := range m.OfType(typ) {
			for _, c := range d.Array("spec.template.spec.containers") {
				out[d.Name] = c.ObjectValue()["image"].StringValue()
			}
		}
	}
	return out
}

func TestImageTagsArePinned(t *testing.T) {
	m := run(t, simConfig())
	for wl, img := range images(m) {
		if !pinned.MatchString(img) {
			t.Errorf("%s runs %q: not a pinned MAJOR.MINOR.PATCH tag", wl, img)
		}
	}
}

func TestRegistryOverrideMovesEveryImage(t *testing.T) {
	cfg := simConfig()
	cfg["images"] = map[string]any{"registry": "registry.local:5000/mirror", "pullPolicy": "Always", "pullSecrets": []string{"mirror-creds"}}
	m := run(t, cfg)
	for wl, img := range images(m) {
		if !strings.HasPrefix(img, "registry.local:5000/mirror/") {
			t.Errorf("%s image %q is not under the registry override", wl, img)
		}
	}
	for _, d := range m.OfType(deployment) {
		if got := d.String("spec.template.spec.imagePullSecrets"); got != "" {
			t.Errorf("unexpected %s", got)
		}
		ps := d.Array("spec.template.spec.imagePullSecrets")
		if len(ps) != 1 || ps[0].ObjectValue()["name"].StringValue() != "mirror-creds" {
			t.Errorf("%s imagePullSecrets = %v", d.Name, ps)
		}
	}
}

// podTemplates is every workload's pod template, as comparable text.
func podTemplates(m *testkit.Mocks) map[string]string {
	out := map[string]string{}
	for _, typ := range []string{deployment, stateful} {
		for _, d := range m.OfType(typ) {
			out[d.Name] = fmt.Sprint(d.Get("spec.template").Mappable())
		}
	}
	return out
}

func TestChangingOneServiceConfigRollsOnlyThatService(t *testing.T) {
	before := podTemplates(run(t, simConfig()))
	cfg := simConfig()
	cfg["services"] = map[string]any{"monitoring": map[string]any{"config": map[string]any{"WEBHOOK_DOMAIN": "https://alerts.example.com"}}}
	after := podTemplates(run(t, cfg))
	for wl, tmpl := range before {
		changed := after[wl] != tmpl
		if want := wl == "monitoring"; changed != want {
			t.Errorf("%s pod template changed=%v, want %v", wl, changed, want)
		}
	}
}

func TestExternalMongoDBIsNotDeployedAndEveryConfigUsesIt(t *testing.T) {
	cfg := simConfig()
	cfg["stores"] = map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "mongo.example.com", "port": 27018, "username": "spaceone"}}}
	cfg["mongodbPassword"] = "s3cret-from-config-123"
	m := run(t, cfg, "mongodbPassword")
	if m.Find(stateful, "mongodb") != nil || m.Find(service, "mongodb") != nil {
		t.Error("in-cluster MongoDB deployed although an external one is configured")
	}
	n := 0
	for _, s := range m.OfType(secretType) {
		text, ok := s.SecretString("database.yaml")
		if !ok {
			continue
		}
		n++
		for _, want := range []string{"host: mongo.example.com", "port: 27018", "username: spaceone", "password: s3cret-from-config-123"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s database.yaml lacks %q:\n%s", s.Name, want, text)
			}
		}
	}
	if n == 0 {
		t.Fatal("no database.yaml found")
	}
}

func TestExternalRedisAndConsulRewireEveryConfig(t *testing.T) {
	cfg := simConfig()
	cfg["stores"] = map[string]any{
		"redis":  map[string]any{"external": map[string]any{"host": "10.1.2.3", "port": 6380}},
		"consul": map[string]any{"external": map[string]any{"host": "consul.example.com"}},
	}
	m := run(t, cfg)
	for _, st := range []string{"redis", "consul"} {
		if m.Find(stateful, st) != nil {
			t.Errorf("in-cluster %s deployed although external", st)
		}
	}
	for name, text := range configData(m) {
		if strings.Contains(text, "host: redis\n") || strings.Contains(text, `"host": "redis"`) || strings.Contains(text, "host: consul\n") {
			t.Errorf("%s still points at an in-cluster store:\n%s", name, text)
		}
	}
	inv := configData(m)
	var found bool
	for name, text := range inv {
		if strings.HasPrefix(name, "inventory-scheduler-config/") {
			found = strings.Contains(text, "host: 10.1.2.3") && strings.Contains(text, "port: 6380") && strings.Contains(text, "host: consul.example.com")
		}
	}
	if !found {
		t.Error("inventory-scheduler config does not use the external Redis and Consul")
	}
}
