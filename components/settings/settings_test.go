package settings

import (
	"encoding/json"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
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
func (k known) StoreNames() []string   { return catalog.StoreNames }
func (k known) PluginServiceTypes() []string {
	return []string{"inventory.Collector", "monitoring.DataSource"}
}
func (k known) PluginRegistries() []string {
	return []string{catalog.RegistryDockerHub, catalog.RegistryHarbor}
}

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

// Where backups go follows the cluster when the stack names no place: a volume on a local
// cluster, the stack's own bucket on eks (the engine hands every stack Pulumi.yaml's default).
func TestBackupsGoWhereTheClusterKeepsThem(t *testing.T) {
	eks := map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1"},
		"backup": map[string]any{"schedule": "0 3 * * *", "keep": DefaultBackupKeep}}
	s, err := Load(source(eks), known{"identity"})
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Backup; b.S3 == nil || b.S3.Bucket != "" || b.S3.VersionDays != DefaultBackupVersionDays || b.Size != "" || !s.Backups() {
		t.Errorf("eks backups = %+v (s3 %+v); want the stack's own bucket, versions kept %d days, no volume", b, b.S3, DefaultBackupVersionDays)
	}
	local := map[string]any{"backup": map[string]any{"schedule": "", "keep": DefaultBackupKeep}}
	if s, err = Load(source(local), known{"identity"}); err != nil {
		t.Fatal(err)
	}
	if b := s.Backup; b.S3 != nil || b.Size != DefaultBackupSize || !s.Backups() {
		t.Errorf("local backups = %+v; want a volume of %s", b, DefaultBackupSize)
	}
}

// The defaults that depend on other settings (defaults.go): node-port exposures get minikube's
// address and the console's ports, dev exposure defaults to port-forwarding, an external store
// its usual port; what the stack sets is kept.
func TestDefaultsThatDependOnOtherSettings(t *testing.T) {
	s, err := Load(source(map[string]any{
		"console":         map[string]any{"expose": "nodePort"},
		"dev":             map[string]any{"expose": "nodePort"},
		"stores":          map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "mongo.example.com", "username": "spaceone"}}},
		"mongodbPassword": "Secret-Passw0rd!",
	}, "mongodbPassword"), known{"identity"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Console
	if c.Address != MinikubeAddress || c.NodePort != DefaultConsoleNodePort || c.APINodePort != DefaultConsoleAPINodePort {
		t.Errorf("console on node ports: %s %d %d, want %s %d %d", c.Address, c.NodePort, c.APINodePort,
			MinikubeAddress, DefaultConsoleNodePort, DefaultConsoleAPINodePort)
	}
	if s.Dev.Address != MinikubeAddress {
		t.Errorf("dev on node ports: address %q, want %s", s.Dev.Address, MinikubeAddress)
	}
	if p := s.Stores.MongoDB.External.Port; p != catalog.StorePorts["mongodb"] {
		t.Errorf("external MongoDB without a port: %d, want %d", p, catalog.StorePorts["mongodb"])
	}

	s, err = Load(source(map[string]any{"console": map[string]any{"expose": "nodePort", "address": "10.0.0.5", "nodePort": 31000, "apiNodePort": 31001}}), known{"identity"})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Console; c.Address != "10.0.0.5" || c.NodePort != 31000 || c.APINodePort != 31001 || s.Dev.Expose != "portForward" {
		t.Errorf("set values not kept, or dev not port-forwarded: %+v %q", c, s.Dev.Expose)
	}
}
