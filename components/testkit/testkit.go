// Package testkit runs Pulumi programs under mocks and records every registration, so unit
// tests can assert on resources, their inputs and their options without a CLI or cluster.
package testkit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource as the mock saw it.
type Resource struct {
	Type     string
	Name     string
	URN      string
	Parent   string
	Provider string
	Inputs   resource.PropertyMap
	Custom   bool
	Deps     []string
	Options  pulumi.MockResourceArgs
}

// Mocks records registrations; outputs echo inputs (plus metadata.name, as the API would).
type Mocks struct {
	mu        sync.Mutex
	Resources []Resource
	// Outputs lets a test supply outputs for a type token (remote components, cloud resources).
	Outputs map[string]func(args pulumi.MockResourceArgs) resource.PropertyMap
	// DryRun runs the program as a preview does.
	DryRun bool
	// Deployed are the outputs of the stack's last update, as a reference to the stack reads
	// them (nil: a fresh stack).
	Deployed map[string]any
	// Invokes answers function calls (e.g. aws:eks/getCluster:getCluster) by token.
	Invokes map[string]func(args pulumi.MockCallArgs) resource.PropertyMap
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	autoName(args, out)
	keepStored(args, out)
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		out["outputs"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(m.Deployed))
	}
	if f := m.Outputs[args.TypeToken]; f != nil {
		for k, v := range f(args) {
			out[k] = v
		}
	}
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Custom: args.Custom, Options: args}
	if rpc := args.RegisterRPC; rpc != nil {
		r.URN = fmt.Sprintf("urn:pulumi:test::spaceone::%s::%s", args.TypeToken, args.Name)
		r.Parent = rpc.GetParent()
		r.Provider = rpc.GetProvider()
		r.Deps = rpc.GetDependencies()
	}
	m.mu.Lock()
	m.Resources = append(m.Resources, r)
	m.mu.Unlock()
	return args.Name + "_id", out, nil
}

// Call implements pulumi.MockResourceMonitor (no invokes are expected by default).
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f := m.Invokes[args.Token]; f != nil {
		return f(args), nil
	}
	return resource.PropertyMap{}, nil
}

// Config is stack configuration for a mocked run: keys without a namespace get "spaceone:".
// Values that are not strings are JSON-encoded, as the CLI passes objects.
type Config map[string]any

// Run runs program under mocks with cfg; secretKeys are the keys stored as secrets.
func Run(program pulumi.RunFunc, cfg Config, secretKeys ...string) (*Mocks, error) {
	m := &Mocks{}
	return m, RunWith(m, program, cfg, secretKeys...)
}

// RunWith is Run with a caller-made Mocks (to preset Outputs).
func RunWith(m *Mocks, program pulumi.RunFunc, cfg Config, secretKeys ...string) error {
	conf := map[string]string{}
	for k, v := range cfg {
		if !strings.Contains(k, ":") {
			k = "spaceone:" + k
		}
		if s, ok := v.(string); ok {
			conf[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("config %s: %w", k, err)
		}
		conf[k] = string(b)
	}
	var secrets []string
	for _, k := range secretKeys {
		if !strings.Contains(k, ":") {
			k = "spaceone:" + k
		}
		secrets = append(secrets, k)
	}
	// The program lists the stack's keys from the environment, as the engine passes them.
	all, _ := json.Marshal(conf)
	old, had := os.LookupEnv(pulumi.EnvConfig)
	os.Setenv(pulumi.EnvConfig, string(all))
	defer func() {
		if had {
			os.Setenv(pulumi.EnvConfig, old)
		} else {
			os.Unsetenv(pulumi.EnvConfig)
		}
	}()
	setConfig := func(info *pulumi.RunInfo) {
		info.DryRun = m.DryRun
		info.Config = conf
		info.ConfigSecretKeys = secrets
	}
	return pulumi.RunErr(program, pulumi.WithMocks("spaceone", "test", m), setConfig)
}

// Touched are the recorded resources a deployment would create or change: all but the
// program's read of its own stack (the release-change guard's StackReference).
func (m *Mocks) Touched() []Resource {
	var out []Resource
	for _, r := range m.Resources {
		if r.Type != "pulumi:pulumi:StackReference" {
			out = append(out, r)
		}
	}
	return out
}

// OfType returns the recorded resources of a type token, in registration order.
func (m *Mocks) OfType(token string) []Resource {
	var out []Resource
	for _, r := range m.Resources {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource of a type with a logical name, or nil.
func (m *Mocks) Find(token, name string) *Resource {
	for i := range m.Resources {
		if m.Resources[i].Type == token && m.Resources[i].Name == name {
			return &m.Resources[i]
		}
	}
	return nil
}

// KubeName is metadata.name of a Kubernetes resource's inputs ("" if none).
func (r Resource) KubeName() string { return r.String("metadata.name") }

// String is the string at path, or "" when absent or not a string.
func (r Resource) String(path string) string {
	if v := r.Get(path); v.IsString() {
		return v.StringValue()
	}
	return ""
}

// Get walks a dotted path of object keys through the inputs (e.g. "spec.template.spec").
func (r Resource) Get(path string) resource.PropertyValue {
	v := resource.NewObjectProperty(r.Inputs)
	for _, k := range strings.Split(path, ".") {
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(k)]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
	}
	return v
}

// autoName stands in for Pulumi's auto-naming of Kubernetes objects without metadata.name:
// the provider picks a fresh suffix whenever the object is replaced (immutable ConfigMaps and
// Secrets are replaced when their data changes), so the mock derives it from the inputs.
func autoName(args pulumi.MockResourceArgs, out resource.PropertyMap) {
	if !strings.HasPrefix(args.TypeToken, "kubernetes:") || !args.Custom {
		return
	}
	meta, ok := out["metadata"]
	if !ok || !meta.IsObject() {
		return
	}
	m := meta.ObjectValue().Copy()
	if n, ok := m["name"]; ok && n.IsString() && n.StringValue() != "" {
		return
	}
	b, _ := json.Marshal(args.Inputs.Mappable())
	sum := sha256.Sum256(b)
	m["name"] = resource.NewStringProperty(fmt.Sprintf("%s-%x", args.Name, sum[:4]))
	out["metadata"] = resource.NewObjectProperty(m)
}

// Object is the object at path, or an empty map.
func (r Resource) Object(path string) resource.PropertyMap {
	if v := r.Get(path); v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}

// Array is the array at path, or nil.
func (r Resource) Array(path string) []resource.PropertyValue {
	if v := r.Get(path); v.IsArray() {
		return v.ArrayValue()
	}
	return nil
}

// keepStored stands in for a resource whose data ignores changes (generated credentials):
// after the first create the engine returns the stored data, not the new proposal. The mock
// returns a value fixed per resource and key, so every run sees the same "stored" secret.
func keepStored(args pulumi.MockResourceArgs, out resource.PropertyMap) {
	if args.RegisterRPC == nil {
		return
	}
	ignored := false
	for _, f := range args.RegisterRPC.GetIgnoreChanges() {
		ignored = ignored || f == "data"
	}
	data, ok := out["data"]
	if !ignored || !ok {
		return
	}
	secret := data.IsSecret()
	if secret {
		data = data.SecretValue().Element
	}
	if !data.IsObject() {
		return
	}
	stored := resource.PropertyMap{}
	for k := range data.ObjectValue() {
		sum := sha256.Sum256([]byte(args.Name + "/" + string(k)))
		stored[k] = resource.NewStringProperty(base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("stored%x", sum[:12]))))
	}
	v := resource.NewObjectProperty(stored)
	if secret {
		v = resource.MakeSecret(v)
	}
	out["data"] = v
}

// SecretString is the clear value of key in a Secret's inputs (data, base64-decoded, or
// stringData), and whether it is there.
func (r Resource) SecretString(key string) (string, bool) {
	unwrap := func(v resource.PropertyValue) resource.PropertyValue {
		if v.IsSecret() {
			return v.SecretValue().Element
		}
		return v
	}
	if v, ok := r.Object("data")[resource.PropertyKey(key)]; ok {
		if v = unwrap(v); v.IsString() {
			b, err := base64.StdEncoding.DecodeString(v.StringValue())
			return string(b), err == nil
		}
	}
	if v, ok := r.Object("stringData")[resource.PropertyKey(key)]; ok {
		if v = unwrap(v); v.IsString() {
			return v.StringValue(), true
		}
	}
	return "", false
}

// GeneratedSection keeps the text of file between the lines begin and end equal to want (a
// part of the README generated from the code): with update it rewrites that text (make
// readme); otherwise a difference is an error that shows both.
func GeneratedSection(t testing.TB, file, begin, end, want string, update bool) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated text between %q and %q", file, begin, end)
	}
	got := text[i+len(begin) : j]
	if got == want {
		return
	}
	if update {
		if err := os.WriteFile(file, []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale after %q; run make readme. Want:\n%s\ngot:\n%s", file, strings.TrimSpace(begin), want, got)
}
