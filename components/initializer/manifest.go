package initializer

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
)

// Where the Job mounts what it reads: the files (a ConfigMap), the vars (a Secret), and
// spacectl's own directory (an emptyDir: spacectl keeps its config under ~, and the
// image's user is root).
const (
	filesDir     = "/spacectl"
	secretDir    = "/spacectl-secret"
	spacectlHome = "/root/.spaceone"
	// ManifestFile is the file initialize.py is started with; it names every other.
	ManifestFile = "manifest.json"
	// VarsFile is the Secret's one entry: spacectl's var block (the password, the tokens).
	VarsFile = "vars.yaml"
)

// Manifest is everything initialize.py is told: the task file and the number of tasks of
// each mode, where the vars and spacectl's config are, where the last task leaves the key,
// and where the key goes. It names no secret.
type Manifest struct {
	Modes map[Mode]ModeRun `json:"modes"`
	Vars  string           `json:"vars"`
	// SpacectlConfig maps each config file mounted here to where spacectl reads it.
	SpacectlConfig map[string]string `json:"spacectl_config"`
	KeyFile        string            `json:"key_file"`
	Handoff        Handoff           `json:"handoff"`
	// Rotation is recorded beside the key; a value that differs from the recorded one makes
	// the run a rotation.
	Rotation string `json:"rotation"`
	// Restored and Repair are why a run happens anew: a restored backup, a key found lost.
	// initialize.py only prints them; a new value makes a new Job.
	Restored string `json:"restored,omitempty"`
	Repair   string `json:"repair,omitempty"`
}

// ModeRun is one mode's task file and how many tasks spacectl must report done in it
// (spacectl exits 0 on some of its own errors).
type ModeRun struct {
	Tasks string `json:"tasks"`
	Count int    `json:"count"`
}

// Handoff is where the key goes: Consul's KV store (1.10: Consul and KeyPath set) or the
// key's Secrets (1.12: Secrets set).
type Handoff struct {
	Consul  string   `json:"consul,omitempty"`   // host:port
	KeyPath string   `json:"key_path,omitempty"` // the key's path in Consul's KV store
	Secrets []string `json:"secrets,omitempty"`  // namespace/name of each Secret
}

// tasksFile is mode m's task file in the ConfigMap.
func tasksFile(m Mode) string { return "tasks-" + string(m) + ".yaml" }

// newManifest is the manifest of a run with these arguments and these tasks per mode.
func newManifest(a *Args, byMode map[Mode][]Task) (Manifest, error) {
	man := Manifest{
		Modes: map[Mode]ModeRun{},
		Vars:  secretDir + "/" + VarsFile,
		SpacectlConfig: map[string]string{
			filesDir + "/environment.yml": spacectlHome + "/environment.yml",
			filesDir + "/default.yml":     spacectlHome + "/environments/default.yml",
		},
		KeyFile:  KeyFile,
		Rotation: a.KeyRotation, Restored: a.Restored, Repair: a.Repair,
	}
	for m, tasks := range byMode {
		man.Modes[m] = ModeRun{Tasks: filesDir + "/" + tasksFile(m), Count: len(tasks)}
	}
	switch a.KeyHandoff {
	case catalog.HandoffConsul:
		man.Handoff = Handoff{Consul: a.Consul, KeyPath: microservice.TokenKeyPath}
	case catalog.HandoffSecret:
		man.Handoff = Handoff{Secrets: a.KeySecrets}
	default:
		return Manifest{}, fmt.Errorf("initializer: unknown key hand-off %q", a.KeyHandoff)
	}
	return man, nil
}

// Files renders the ConfigMap: the manifest, a task file per mode, spacectl's config and
// initialize.py. None holds a secret: the password and tokens are in the vars, a Secret.
func Files(a *Args) (map[string]string, error) {
	// The task files and the counts the manifest checks them by come from one list per mode.
	tasks, byMode := Tasks(a), map[Mode][]Task{}
	for _, m := range Modes {
		byMode[m] = InMode(tasks, m)
	}
	man, err := newManifest(a, byMode)
	if err != nil {
		return nil, err
	}
	manifest, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	env, err := yaml.Marshal(map[string]any{"endpoints": a.Endpoints}) // yaml sorts a map's keys
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		ManifestFile:      string(manifest) + "\n",
		"environment.yml": "environment: default\n",
		"default.yml":     string(env),
		"initialize.py":   initializePy,
	}
	for m, list := range byMode {
		var doc []any
		for _, t := range list {
			doc = append(doc, t.spacectl())
		}
		text, err := yaml.Marshal(map[string]any{"tasks": doc})
		if err != nil {
			return nil, err
		}
		files[tasksFile(m)] = "# The tasks of mode " + string(m) + ", in order (initialize.py picks the mode).\n" + string(text)
	}
	return files, nil
}

// vars is spacectl's var block: the only place the password and the marketplace token are.
func vars(a *Args, password, marketplaceToken string) (string, error) {
	v := map[string]any{
		"domain":           map[string]any{"root": a.Domain},
		"default_language": "en",
		"default_timezone": "UTC",
		"domain_owner":     map[string]any{"id": a.AdminUser, "password": password},
		"user":             map[string]any{"id": a.APIUser},
	}
	if a.HasMarketplaceToken { // only then: the marketplace tasks are the only readers
		v["marketplace_endpoint"], v["marketplace_token"] = a.MarketplaceEndpoint, marketplaceToken
	}
	b, err := yaml.Marshal(map[string]any{"var": v})
	return string(b), err
}
