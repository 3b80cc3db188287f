package settings

import (
	"encoding/json"
	"strings"
	"testing"
)

type mapSource struct {
	values  map[string]string
	secrets map[string]bool
}

func (m mapSource) GetConfig(k string) (string, bool) { v, ok := m.values[k]; return v, ok }
func (m mapSource) IsConfigSecret(k string) bool      { return m.secrets[k] }

type known []string

func (k known) HasService(n string) bool {
	for _, x := range k {
		if x == n {
			return true
		}
	}
	return false
}
func (k known) ServiceNames() []string { return k }

func source(cfg map[string]any, secrets ...string) mapSource {
	s := mapSource{values: map[string]string{}, secrets: map[string]bool{}}
	for k, v := range cfg {
		if str, ok := v.(string); ok {
			s.values["spaceone:"+k] = str
		} else {
			b, _ := json.Marshal(v)
			s.values["spaceone:"+k] = string(b)
		}
	}
	for _, k := range secrets {
		s.secrets["spaceone:"+k] = true
	}
	return s
}

func TestDefaults(t *testing.T) {
	s, err := Load(source(nil), known{"identity"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Type != "local" || s.Cluster.KubeContext != "minikube" || s.Namespace != "spaceone" ||
		s.PluginNamespace != "root-supervisor" || s.Images.PullPolicy != "IfNotPresent" || s.Console.Expose != "portForward" {
		t.Errorf("unexpected defaults: %+v", s)
	}
	if s.ConsoleURL() != "http://localhost:8080" || s.ConsoleAPIURL() != "http://localhost:8081" {
		t.Errorf("port-forward URLs = %s %s", s.ConsoleURL(), s.ConsoleAPIURL())
	}
}

func TestKubeconfigStackUsesItsCurrentContext(t *testing.T) {
	s, err := Load(source(map[string]any{"kubeconfig": "/x/admin.kubeconfig"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.KubeContext != "" {
		t.Errorf("kubeContext = %q, want the kubeconfig's current context", s.Cluster.KubeContext)
	}
}

// Each bad configuration is refused with a message naming the setting and what is accepted.
func TestBadInputIsRefusedWithTheSettingNamed(t *testing.T) {
	cases := []struct {
		name    string
		cfg     map[string]any
		secrets []string
		key     string // the setting the message must name
		hint    string // what the message must say is accepted
	}{
		{"unknown cluster type", map[string]any{"clusterType": "gke"}, nil, "spaceone:clusterType", `"local"`},
		{"unknown service", map[string]any{"services": map[string]any{"nosuch": map[string]any{"tag": "1.10.4"}}}, nil, "spaceone:services.nosuch", "known services: identity"},
		{"latest tag", map[string]any{"services": map[string]any{"identity": map[string]any{"tag": "latest"}}}, nil, "spaceone:services.identity.tag", "MAJOR.MINOR.SPRINT"},
		{"malformed tag", map[string]any{"services": map[string]any{"identity": map[string]any{"tag": "v1.10"}}}, nil, "spaceone:services.identity.tag", "1.10.4"},
		{"tag in image", map[string]any{"services": map[string]any{"identity": map[string]any{"image": "me/identity:dev"}}}, nil, "spaceone:services.identity.image", "without tag"},
		{"negative replicas", map[string]any{"services": map[string]any{"identity": map[string]any{"replicas": map[string]any{"grpc": -1}}}}, nil, "spaceone:services.identity.replicas.grpc", "0 to 50"},
		{"unknown variant", map[string]any{"services": map[string]any{"identity": map[string]any{"variants": []string{"grpc", "cron"}}}}, nil, "spaceone:services.identity.variants[1]", "grpc, scheduler, worker or rest"},
		{"bad quantity", map[string]any{"services": map[string]any{"identity": map[string]any{"resources": map[string]any{"memoryLimit": "1 GB"}}}}, nil, "spaceone:services.identity.resources.memoryLimit", "256Mi"},
		{"unknown field", map[string]any{"services": map[string]any{"identity": map[string]any{"tga": "1.10.4"}}}, nil, "spaceone:services", "unknown field"},
		{"bad pull policy", map[string]any{"images": map[string]any{"pullPolicy": "Sometimes"}}, nil, "spaceone:images.pullPolicy", "IfNotPresent, Always or Never"},
		{"registry with scheme", map[string]any{"images": map[string]any{"registry": "https://reg.local/x"}}, nil, "spaceone:images.registry", "no scheme"},
		{"bad namespace", map[string]any{"namespace": "SpaceONE"}, nil, "spaceone:namespace", "lower-case"},
		{"same namespaces", map[string]any{"namespace": "x", "pluginNamespace": "x"}, nil, "spaceone:pluginNamespace", "must differ"},
		{"bad volume size", map[string]any{"stores": map[string]any{"mongodb": map[string]any{"size": "lots"}}}, nil, "spaceone:stores.mongodb.size", "8Gi"},
		{"external host empty", map[string]any{"stores": map[string]any{"redis": map[string]any{"external": map[string]any{"host": ""}}}}, nil, "spaceone:stores.redis.external.host", "host name or IP"},
		{"external port out of range", map[string]any{"stores": map[string]any{"redis": map[string]any{"external": map[string]any{"host": "r.example.com", "port": 70000}}}}, nil, "spaceone:stores.redis.external.port", "1-65535"},
		{"external mongo without password", map[string]any{"stores": map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "m.example.com", "username": "u"}}}}, nil, "spaceone:mongodbPassword", "--secret"},
		{"plain-text password", map[string]any{"mongodbPassword": "hunter2", "stores": map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "m.example.com", "username": "u"}}}}, nil, "spaceone:mongodbPassword", "pulumi config set --secret"},
		{"bad expose", map[string]any{"console": map[string]any{"expose": "loadBalancer"}}, nil, "spaceone:console.expose", "portForward, nodePort or ingress"},
		{"nodePort out of range", map[string]any{"console": map[string]any{"expose": "nodePort", "nodePort": 8080}}, nil, "spaceone:console.nodePort", "30000-32767"},
		{"ingress without host", map[string]any{"console": map[string]any{"expose": "ingress", "apiHost": "api.example.com"}}, nil, "spaceone:console.host", "required when console.expose is ingress"},
		{"bad domain", map[string]any{"domain": "My Domain"}, nil, "spaceone:domain", "domain name"},
		{"empty context", map[string]any{"kubeContext": ""}, nil, "spaceone:kubeContext", "minikube"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Load(source(c.cfg, c.secrets...), known{"identity"})
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.key+":") {
				t.Errorf("message does not name %s:\n%s", c.key, msg)
			}
			if !strings.Contains(msg, c.hint) {
				t.Errorf("message does not say %q:\n%s", c.hint, msg)
			}
		})
	}
}

func TestCheckTag(t *testing.T) {
	for _, ok := range []string{"1.10.4", "1.10.4.10", "1.10.4-rc1", "1.12.0.2-dev3"} {
		if err := CheckTag(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "latest", "1.10", "v1.10.4", "1.10.4 ", "1.10.x"} {
		if CheckTag(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
