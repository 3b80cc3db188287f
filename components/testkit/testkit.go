// Package testkit runs Pulumi programs under mocks and records every registration, so unit
// tests can assert on resources, their inputs and their options without a CLI or cluster.
package testkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

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
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
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
	setConfig := func(info *pulumi.RunInfo) {
		info.Config = conf
		info.ConfigSecretKeys = secrets
	}
	return pulumi.RunErr(program, pulumi.WithMocks("spaceone", "test", m), setConfig)
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
