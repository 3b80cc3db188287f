package program

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/supervisor"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

func TestSupervisorRoleIsExactlyWhatItCallsInThePluginNamespaceOnly(t *testing.T) {
	m := run(t, simConfig())
	roles := m.OfType("kubernetes:rbac.authorization.k8s.io/v1:Role")
	if len(roles) != 1 {
		t.Fatalf("%d Roles, want only the supervisor's", len(roles))
	}
	role := roles[0]
	if ns := role.String("metadata.namespace"); ns != "root-supervisor" {
		t.Errorf("supervisor Role in namespace %q, want the plugin namespace", ns)
	}
	var got []string
	for _, r := range role.Array("rules") {
		o := r.ObjectValue()
		var verbs []string
		for _, v := range o["verbs"].ArrayValue() {
			verbs = append(verbs, v.StringValue())
		}
		sort.Strings(verbs)
		got = append(got, o["apiGroups"].ArrayValue()[0].StringValue()+"/"+o["resources"].ArrayValue()[0].StringValue()+":"+strings.Join(verbs, ","))
	}
	sort.Strings(got)
	want := []string{"/endpoints:get", "/services:create,delete,get,list", "apps/deployments:create,delete,get"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("supervisor rules = %v, want %v", got, want)
	}
	if len(supervisor.Rules) != 3 {
		t.Errorf("supervisor.Rules changed: %v", supervisor.Rules)
	}
	bindings := m.OfType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
	if len(bindings) != 1 || bindings[0].String("metadata.namespace") != "root-supervisor" {
		t.Fatalf("want one RoleBinding in root-supervisor, got %d", len(bindings))
	}
	subj := bindings[0].Array("subjects")[0].ObjectValue()
	if subj["name"].StringValue() != "supervisor" || subj["namespace"].StringValue() != "root-supervisor" {
		t.Errorf("binding subject = %v", subj)
	}
	for _, typ := range []string{"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"} {
		if n := len(m.OfType(typ)); n != 0 {
			t.Errorf("%d %s: nothing may be granted cluster-wide", n, typ)
		}
	}
	d := m.Find(deployment, "supervisor")
	if d == nil || d.String("spec.template.spec.serviceAccountName") != "supervisor" || d.String("metadata.namespace") != "root-supervisor" {
		t.Fatal("supervisor Deployment missing, in the wrong namespace, or not using its account")
	}
}

func TestSupervisorPluginEndpointsResolve(t *testing.T) {
	m := run(t, simConfig())
	text := configData(m)["supervisor-config/config.yaml"]
	for _, want := range []string{"HOSTNAME: root-supervisor.svc.cluster.local", "namespace: root-supervisor", "host: redis.spaceone.svc.cluster.local", "uri: root/api_key/TOKEN"} {
		if !strings.Contains(text, want) {
			t.Errorf("supervisor config lacks %q:\n%s", want, text)
		}
	}
}

func TestInitializerFilesNameTheDomainAndNoPassword(t *testing.T) {
	cfg := simConfig()
	cfg["domain"] = "acme"
	cfg["adminPassword"] = "Given-Passw0rd!"
	m := run(t, cfg, "adminPassword")
	files := configData(m)
	var all string
	for name, text := range files {
		if strings.HasPrefix(name, "initializer-files/") {
			all += text
		}
	}
	if all == "" {
		t.Fatal("no initializer files")
	}
	for _, want := range []string{"identity.Domain", "identity.APIKey", initializer.KeyFile, fmt.Sprintf("grpc://identity:%d", catalog.GRPCPort)} {
		if !strings.Contains(all, want) {
			t.Errorf("initializer files lack %q", want)
		}
	}
	// 1.10.4 hands the key over through Consul: the manifest says where.
	consul := fmt.Sprintf("consul:%d", catalog.StorePorts["consul"])
	if h := initializerManifest(t, m).Handoff; h.Consul != consul || h.KeyPath != microservice.TokenKeyPath || h.Secrets != nil {
		t.Errorf("initializer hands the key to %+v, want Consul %s at %s", h, consul, microservice.TokenKeyPath)
	}
	if strings.Contains(all, "Given-Passw0rd!") {
		t.Error("initializer ConfigMap holds the admin password")
	}
	// The domain and the password go in the vars, a Secret.
	var vars string
	for _, s := range m.OfType(secretType) {
		if v, ok := s.SecretString(initializer.VarsFile); ok {
			vars = v
		}
	}
	if !strings.Contains(vars, "root: acme") || !strings.Contains(vars, "password: Given-Passw0rd!") {
		t.Errorf("the initializer's vars Secret lacks the domain or password:\n%s", vars)
	}
	if files := configData(m); !strings.Contains(files["console-config/production.json"], `"DOMAIN_NAME": "acme"`) {
		t.Errorf("console does not sign in to domain acme:\n%s", files["console-config/production.json"])
	}
}

// initializerManifest is what the initializer's Job is told (its ConfigMap's manifest).
func initializerManifest(t *testing.T, m *testkit.Mocks) initializer.Manifest {
	t.Helper()
	text, ok := configData(m)["initializer-files/"+initializer.ManifestFile]
	var man initializer.Manifest
	if !ok {
		t.Fatal("the initializer has no manifest")
	}
	if err := json.Unmarshal([]byte(text), &man); err != nil {
		t.Fatalf("the initializer's manifest: %v", err)
	}
	return man
}

// containerEnv is the env of a workload's first container, by name.
func containerEnv(t *testing.T, r *testkit.Resource) map[string]string {
	t.Helper()
	if r == nil {
		t.Fatal("no such workload")
	}
	out := map[string]string{}
	c := r.Array("spec.template.spec.containers")[0].ObjectValue()
	for _, e := range c["env"].ArrayValue() {
		o := e.ObjectValue()
		if v, ok := o["value"]; ok && v.IsString() {
			out[o["name"].StringValue()] = v.StringValue()
		}
	}
	return out
}

func TestTokenConsumersStartAfterTheInitializer(t *testing.T) {
	m := run(t, simConfig())
	after := func(name string) bool {
		d := m.Find(deployment, name)
		if d == nil {
			t.Fatalf("no Deployment %s", name)
		}
		for _, dep := range d.Deps {
			if strings.HasSuffix(dep, "kubernetes:batch/v1:Job::initializer") {
				return true
			}
		}
		return false
	}
	for _, consumer := range []string{"inventory-scheduler", "supervisor"} {
		if !after(consumer) {
			t.Errorf("%s does not wait for the initializer", consumer)
		}
	}
	// 1.10.4's workers read no key at start (each task carries one): they start at once.
	for _, server := range []string{"identity", "inventory", "secret", "repository", "inventory-worker"} {
		if after(server) {
			t.Errorf("%s waits for the initializer, but reads no key when it starts", server)
		}
	}
	job := m.Find("kubernetes:batch/v1:Job", "initializer")
	if job == nil {
		t.Fatal("no initializer Job")
	}
	if job.KubeName() != "" {
		t.Errorf("initializer Job has the fixed name %q: it must be auto-named so a changed input makes a new Job", job.KubeName())
	}
	waits := strings.Join(job.Deps, " ")
	for _, svc := range []string{"Deployment::identity", "Deployment::repository", "StatefulSet::mongodb", "StatefulSet::consul"} {
		if !strings.Contains(waits, svc) {
			t.Errorf("initializer does not wait for %s", svc)
		}
	}
}

func TestOutputsAndTheSecretPassword(t *testing.T) {
	got := map[string]internals.UnsafeAwaitOutputResult{}
	err := testkit.RunWith(&testkit.Mocks{}, func(ctx *pulumi.Context) error {
		outs, err := Build(ctx)
		if err != nil {
			return err
		}
		for k, v := range outs {
			r, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(v))
			if err != nil {
				return err
			}
			got[k] = r
		}
		return nil
	}, simConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"consoleUrl", "consoleApiUrl", "adminUser", "adminPassword", "namespace", "pluginNamespace", "images", "openConsole"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no output %s", k)
		}
	}
	pw := got["adminPassword"]
	if !pw.Secret {
		t.Error("adminPassword output is not a secret")
	}
	if s, _ := pw.Value.(string); len(s) < 16 {
		t.Errorf("generated admin password %q is too short", s)
	}
	if got["consoleUrl"].Value != "http://localhost:8080" || !strings.Contains(got["openConsole"].Value.(string), "port-forward svc/console 8080:80") {
		t.Errorf("console outputs = %v / %v", got["consoleUrl"].Value, got["openConsole"].Value)
	}
	images := got["images"].Value.(map[string]string)
	for _, wl := range []string{"identity", "console", "console-api", "supervisor", "initializer", "mongodb"} {
		if images[wl] == "" {
			t.Errorf("images output lacks %s", wl)
		}
	}
}

func TestIngressUsesTheConfiguredClassAndHosts(t *testing.T) {
	cfg := simConfig()
	cfg["console"] = map[string]any{"expose": "ingress", "host": "console.example.com", "apiHost": "api.example.com", "tlsSecret": "console-tls"}
	m := run(t, cfg)
	ing := m.Find("kubernetes:networking.k8s.io/v1:Ingress", "console")
	if ing == nil {
		t.Fatal("no Ingress")
	}
	if ing.String("spec.ingressClassName") != "nginx" {
		t.Errorf("class = %q, want nginx on a local cluster", ing.String("spec.ingressClassName"))
	}
	hosts := []string{}
	for _, r := range ing.Array("spec.rules") {
		hosts = append(hosts, r.ObjectValue()["host"].StringValue())
	}
	if strings.Join(hosts, ",") != "console.example.com,api.example.com" {
		t.Errorf("hosts = %v", hosts)
	}
	if !strings.Contains(configData(m)["console-config/production.json"], "https://api.example.com") {
		t.Error("console does not call console-api through the ingress host over https")
	}
	cfg["console"] = map[string]any{"expose": "nodePort"}
	if m := run(t, cfg); m.Find("kubernetes:networking.k8s.io/v1:Ingress", "console") != nil {
		t.Error("Ingress created although the console is exposed by NodePort")
	}
}

// A token consumer that reads the key when it starts (the schedulers, the supervisor) is
// Ready only once it holds it: its readiness probe is the catalogue's tokenReady command.
// Workers and gRPC servers read no key at start, so theirs is unchanged.
func TestTokenConsumersAreReadyOnlyWithTheKey(t *testing.T) {
	m := run(t, simConfig())
	probe := func(name string) string {
		d := m.Find(deployment, name)
		if d == nil {
			t.Fatalf("no Deployment %s", name)
		}
		c := d.Array("spec.template.spec.containers")[0].ObjectValue()
		rp, ok := c["readinessProbe"]
		if !ok || !rp.IsObject() {
			return ""
		}
		return fmt.Sprint(rp.ObjectValue()["exec"])
	}
	for _, consumer := range []string{"inventory-scheduler", "supervisor"} {
		if p := probe(consumer); !strings.Contains(p, "_validate_token] token: ") {
			t.Errorf("%s's readiness does not wait for the key: %q", consumer, p)
		}
	}
	for _, other := range []string{"inventory-worker", "inventory", "notification-scheduler"} {
		if p := probe(other); strings.Contains(p, "_validate_token") {
			t.Errorf("%s waits for the key, which it never logs: %q", other, p)
		}
	}
}
