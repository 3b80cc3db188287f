package program

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// release112 is the 1.12 line's catalogue version.
const release112 = "1.12.12"

func config112() testkit.Config { return releaseConfig(release112) }

func TestRelease112RunsNoConsul(t *testing.T) {
	m := run(t, config112())
	for _, r := range m.Resources {
		if strings.Contains(strings.ToLower(r.Name), "consul") {
			t.Errorf("%s %s: release %s has no Consul", r.Type, r.Name, release112)
		}
	}
	for name, text := range configData(m) {
		if name == "initializer-files/initialize.py" || strings.HasPrefix(name, "backup-script/") {
			continue // one script for every release; its env says which stores it reads and writes
		}
		for _, bad := range []string{"TOKEN_INFO", "consul", "8500"} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(bad)) {
				t.Errorf("%s mentions %q:\n%s", name, bad, text)
			}
		}
	}
	if cj := m.Find(cronJob, backup.CronJob); cj == nil || slices.Contains(envNames(cj, "spec.jobTemplate.spec.template.spec"), "CONSUL_HOST") {
		t.Errorf("release %s: the backup CronJob is missing or backs up a Consul", release112)
	}
	if h := initializerManifest(t, m).Handoff; h.Consul != "" || h.KeyPath != "" || len(h.Secrets) == 0 {
		t.Errorf("initializer hands the key to %+v, want the key's Secrets and no Consul", h)
	}
}

func TestRelease112ImagesArePinnedCloudforet(t *testing.T) {
	m := run(t, config112())
	pinned := regexp.MustCompile(`^cloudforet/[a-z-]+:\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$`)
	n := 0
	for _, kind := range []string{deployment, "kubernetes:batch/v1:Job"} {
		for _, r := range m.OfType(kind) {
			for _, c := range r.Array("spec.template.spec.containers") {
				img := c.ObjectValue()["image"].StringValue()
				n++
				if !pinned.MatchString(img) {
					t.Errorf("%s runs %q, want a pinned cloudforet/* image", r.Name, img)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("only %d containers checked", n)
	}
}

// Every consumer of the key, and only they, mount the key's Secret and import it.
func TestRelease112TokenConsumersImportTheKeyFromTheSecret(t *testing.T) {
	m := run(t, config112())
	consumers := []string{"inventory", "inventory-scheduler", "inventory-worker", "monitoring", "notification-scheduler",
		"cost-analysis", "cost-analysis-worker", "supervisor"}
	others := []string{"identity", "secret", "repository", "config", "board", "dashboard", "notification", "notification-worker"}
	mounts := func(name string) (secret bool, waits bool) {
		d := m.Find(deployment, name)
		if d == nil {
			t.Fatalf("no Deployment %s", name)
		}
		for _, v := range d.Array("spec.template.spec.volumes") {
			if s, ok := v.ObjectValue()["secret"]; ok && s.ObjectValue()["secretName"].StringValue() == apikey.SecretName {
				secret = true
			}
		}
		for _, dep := range d.Deps {
			waits = waits || strings.HasSuffix(dep, "kubernetes:batch/v1:Job::initializer")
		}
		return secret, waits
	}
	files := configData(m)
	imports := func(name string) bool {
		for k, text := range files {
			if strings.HasPrefix(k, name+"-config/") {
				return strings.Contains(text, "/"+apikey.FileName)
			}
		}
		t.Fatalf("no config of %s", name)
		return false
	}
	for _, c := range consumers {
		secret, waits := mounts(c)
		if !secret || !waits || !imports(c) {
			t.Errorf("%s: mounts the key %v, waits for the initializer %v, imports %s %v; want all", c, secret, waits, apikey.FileName, imports(c))
		}
	}
	for _, o := range others {
		if secret, waits := mounts(o); secret || waits {
			t.Errorf("%s reads no key, but mounts it (%v) or waits for the initializer (%v)", o, secret, waits)
		}
	}
}

// The initializer may read and write the key's Secrets, by name, and nothing else; the
// Secrets are made empty by the program and their data is never the program's.
func TestRelease112InitializerMayWriteOnlyTheKeySecrets(t *testing.T) {
	m := run(t, config112())
	roles := m.OfType("kubernetes:rbac.authorization.k8s.io/v1:Role")
	var keyRoles []testkit.Resource
	for _, r := range roles {
		if strings.HasPrefix(r.KubeName(), apikey.SecretName) {
			keyRoles = append(keyRoles, r)
		}
	}
	if len(keyRoles) != 2 {
		t.Fatalf("%d roles for the key, want 2 (the services' namespace and the supervisor's)", len(keyRoles))
	}
	namespaces := []string{}
	for _, r := range keyRoles {
		namespaces = append(namespaces, r.String("metadata.namespace"))
		rules := r.Array("rules")
		if len(rules) != 1 {
			t.Fatalf("%s has %d rules, want 1", r.Name, len(rules))
		}
		rule := testkit.Resource{Inputs: rules[0].ObjectValue()}
		got := func(k string) []string {
			var out []string
			for _, v := range rule.Array(k) {
				out = append(out, v.StringValue())
			}
			return out
		}
		if !slices.Equal(got("apiGroups"), []string{""}) || !slices.Equal(got("resources"), []string{"secrets"}) ||
			!slices.Equal(got("resourceNames"), []string{apikey.SecretName}) || !slices.Equal(got("verbs"), apikey.Verbs) {
			t.Errorf("%s allows %v %v %v %v, want get/patch on secrets/%s only", r.Name, got("apiGroups"), got("resources"), got("resourceNames"), got("verbs"), apikey.SecretName)
		}
	}
	slices.Sort(namespaces)
	if !slices.Equal(namespaces, []string{"root-supervisor", "spaceone"}) {
		t.Errorf("key roles in %v", namespaces)
	}
	for _, b := range m.OfType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") {
		if !strings.HasPrefix(b.KubeName(), apikey.SecretName) {
			continue
		}
		subj := b.Array("subjects")
		if len(subj) != 1 || subj[0].ObjectValue()["name"].StringValue() != apikey.ServiceAccount {
			t.Errorf("%s binds %v, want only %s", b.Name, subj, apikey.ServiceAccount)
		}
	}
	job := m.Find("kubernetes:batch/v1:Job", "initializer")
	if sa := job.String("spec.template.spec.serviceAccountName"); sa != apikey.ServiceAccount {
		t.Errorf("initializer runs as %q, want %s", sa, apikey.ServiceAccount)
	}
	if got := initializerManifest(t, m).Handoff.Secrets; !slices.Equal(got, []string{"spaceone/" + apikey.SecretName, "root-supervisor/" + apikey.SecretName}) {
		t.Errorf("initializer writes %q", got)
	}
	n := 0
	for _, s := range m.OfType(secretType) {
		if s.KubeName() != apikey.SecretName {
			continue
		}
		n++
		if d := s.Object("data"); len(d) != 0 {
			t.Errorf("%s is created with data %v; the initializer alone writes it", s.Name, d)
		}
	}
	if n != 2 {
		t.Errorf("%d key Secrets, want 2", n)
	}
	// The supervisor reads the key and nothing more of the Kubernetes API than before.
	for _, r := range roles {
		if r.KubeName() == "supervisor-plugins" {
			for _, rule := range r.Array("rules") {
				for _, res := range (testkit.Resource{Inputs: rule.ObjectValue()}).Array("resources") {
					if res.StringValue() == "secrets" {
						t.Error("the supervisor's role grants secrets")
					}
				}
			}
		}
	}
}

// secret keeps its payloads in MongoDB with its own login, which lives in its database
// Secret; its config names the backend and holds no password.
func TestRelease112SecretStoresPayloadsInMongoDB(t *testing.T) {
	m := run(t, config112())
	cfg := configData(m)["secret-config/config.yaml"]
	if !strings.Contains(cfg, "BACKEND: MongoDBConnector") || strings.Contains(cfg, "password") {
		t.Errorf("secret config:\n%s", cfg)
	}
	var db string
	for _, s := range m.OfType(secretType) {
		if strings.HasPrefix(s.Name, "secret-database") {
			db, _ = s.SecretString("database.yaml")
		}
	}
	if !regexp.MustCompile(`(?s)CONNECTORS:\s+MongoDBConnector:.*password: \S+.*username: secret_user`).MatchString(db) {
		t.Errorf("secret's database.yaml lacks the MongoDBConnector login:\n%s", db)
	}
	users := containerEnv(t, m.Find("kubernetes:batch/v1:Job", catalog.DBUsers))["SPACEONE_DB_USERS"]
	if !strings.Contains(users, `"user":"secret_user","dbs":["secret","secret_data"]`) {
		t.Errorf("secret_user gets no role on secret_data: %s", users)
	}
}

// console 1.12 throws at start without a console-api-v2 endpoint: it gets console-api's URL.
func TestRelease112ConsoleHasAV2Endpoint(t *testing.T) {
	m := run(t, config112())
	cfg := configData(m)["console-config/production.json"]
	if !regexp.MustCompile(`"CONSOLE_API_V2": \{\s+"ENDPOINT": "http://localhost:8081"`).MatchString(cfg) {
		t.Errorf("console config has no v2 endpoint:\n%s", cfg)
	}
	if strings.Contains(configData(run(t, simConfig()))["console-config/production.json"], "CONSOLE_API_V2") {
		t.Error("the 1.10.4 console got a v2 endpoint")
	}
}

// initializer.rotateApiKey reaches the initializer and the pods of every process that reads
// the key when it starts (a new value restarts them), and no other pod.
func TestKeyRotationRollsOnlyTheKeyConsumers(t *testing.T) {
	for _, cfg := range []testkit.Config{simConfig(), config112()} {
		cfg["initializer"] = map[string]any{"rotateApiKey": "2026-12-01"}
		m := run(t, cfg)
		if got := initializerManifest(t, m).Rotation; got != "2026-12-01" {
			t.Errorf("%v: the initializer's manifest says rotation %q", cfg["release"], got)
		}
		for _, d := range m.OfType(deployment) {
			_, rolls := d.Object("spec.template.metadata.annotations")["spaceone.dev/api-key-rotation"]
			waits := false
			for _, dep := range d.Deps {
				waits = waits || strings.HasSuffix(dep, "kubernetes:batch/v1:Job::initializer")
			}
			// a consumer waits for the initializer; only consumers roll on a rotation
			if rolls != waits {
				t.Errorf("%v: %s rolls on a rotation %v, waits for the initializer %v", cfg["release"], d.Name, rolls, waits)
			}
		}
	}
}
