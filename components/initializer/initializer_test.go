package initializer

import (
	"encoding/json"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// spacectl 1.10.4.2 (lib/apply/task_manager.py) refuses a task with any other key.
var taskKeys = []string{"id", "name", "uses", "spec", "var", "if", "loop", "sub_tasks", "debug"}

func args(marketplace bool) *Args {
	return &Args{Endpoints: map[string]string{"identity": "grpc://identity:50051"}, KeyHandoff: catalog.HandoffConsul, Consul: "consul:8500",
		Domain: "root", AdminUser: "admin", APIUser: "root_api_key", HasMarketplaceToken: marketplace,
		Plugins: []Plugin{{Name: "fakecloud", Image: "team/fakecloud", RegistryType: catalog.RegistryHarbor, Version: "1.0.0", ServiceType: "inventory.Collector"}}}
}

// files renders a's ConfigMap and reads its manifest.
func files(t *testing.T, a *Args) (map[string]string, Manifest) {
	t.Helper()
	files, err := Files(a)
	if err != nil {
		t.Fatal(err)
	}
	var man Manifest
	if err := json.Unmarshal([]byte(files[ManifestFile]), &man); err != nil {
		t.Fatalf("%s: %v", ManifestFile, err)
	}
	return files, man
}

// The task files have spacectl's shape: each is {tasks: [...]}, a task has only spacectl's
// own keys and no condition (each mode has its file), and module arguments sit under spec.
// (The shape this replaced, a bare list of flat tasks, was refused by spacectl, which still
// exited 0.)
func TestTaskFilesHaveSpacectlShape(t *testing.T) {
	files, man := files(t, args(true))
	for _, mode := range Modes {
		name := path.Base(man.Modes[mode].Tasks)
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(files[name]), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc) != 1 || doc["tasks"] == nil {
			t.Fatalf("%s: want only a tasks key, got %v", name, doc)
		}
		tasks := doc["tasks"].([]any)
		if len(tasks) != man.Modes[mode].Count {
			t.Errorf("%s holds %d tasks; the manifest expects %d", name, len(tasks), man.Modes[mode].Count)
		}
		for i, raw := range tasks {
			task := raw.(map[string]any)
			for k := range task {
				if !slices.Contains(taskKeys, k) || k == "if" {
					t.Errorf("%s task %d: key %q (spacectl's are %v; a mode's file needs no condition)", name, i, k, taskKeys)
				}
			}
			spec, _ := task["spec"].(map[string]any)
			switch task["uses"] {
			case "@modules/resource":
				for _, k := range []string{"resource_type", "mode", "data"} {
					if spec[k] == nil {
						t.Errorf("%s task %v: spec lacks %s", name, task["id"], k)
					}
				}
			case "@modules/shell":
				if spec["run"] == nil {
					t.Errorf("%s task %v: spec lacks run", name, task["id"])
				}
			default:
				t.Errorf("%s task %v: unknown module %v", name, task["id"], task["uses"])
			}
		}
	}
}

// The manifest names every file the script reads where the Job mounts it, and the key
// hand-off of the release; it holds no secret.
func TestManifestNamesWhatTheJobMounts(t *testing.T) {
	a := args(true)
	a.KeyRotation = "2026-12-01"
	rendered, man := files(t, a)
	if man.Vars != secretDir+"/"+VarsFile || !strings.HasPrefix(man.KeyFile, spacectlHome+"/") || man.Rotation != "2026-12-01" {
		t.Errorf("manifest: vars %q, key file %q, rotation %q", man.Vars, man.KeyFile, man.Rotation)
	}
	for src := range man.SpacectlConfig {
		if _, ok := rendered[strings.TrimPrefix(src, filesDir+"/")]; !ok || !strings.HasPrefix(src, filesDir+"/") {
			t.Errorf("spacectl config %s is not a file of the ConfigMap", src)
		}
	}
	if man.Handoff.Consul != "consul:8500" || man.Handoff.KeyPath == "" || man.Handoff.Secrets != nil {
		t.Errorf("1.10's hand-off: %+v", man.Handoff)
	}
	a.KeyHandoff, a.KeySecrets = catalog.HandoffSecret, []string{"spaceone/key", "root-supervisor/key"}
	if _, man = files(t, a); man.Handoff.Consul != "" || !slices.Equal(man.Handoff.Secrets, a.KeySecrets) {
		t.Errorf("1.12's hand-off: %+v", man.Handoff)
	}
	a.KeyHandoff = "carrier-pigeon"
	if _, err := Files(a); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Errorf("an unknown hand-off: %v", err)
	}
}

// initialize.py takes everything from the manifest: it picks among the modes the Go side
// renders, and reads no environment variable but the Kubernetes API's address.
func TestInitializePyReadsOnlyTheManifest(t *testing.T) {
	picks := regexp.MustCompile(`(?m)^FIRST, AGAIN, ROTATE, REKEY = (.*)$`).FindStringSubmatch(initializePy)
	var want []string
	for _, m := range Modes {
		want = append(want, `"`+string(m)+`"`)
	}
	if picks == nil || picks[1] != strings.Join(want, ", ") {
		t.Errorf("initialize.py picks among %q; the task files are for modes %s", picks, strings.Join(want, ", "))
	}
	for _, env := range regexp.MustCompile(`os\.environ(?:\.get)?[\[(]"([A-Z_]+)"`).FindAllStringSubmatch(initializePy, -1) {
		if !strings.HasPrefix(env[1], "KUBERNETES_SERVICE_") {
			t.Errorf("initialize.py reads $%s; what it is told belongs in the manifest", env[1])
		}
	}
}

// Secrets reach spacectl's JSON through its to_data filter, which escapes `"` and `\`.
func TestSecretsAreEscapedForSpacectlJSON(t *testing.T) {
	files, _ := files(t, args(true))
	var all string
	for _, m := range Modes {
		all += files[tasksFile(m)]
	}
	for _, v := range []string{"var.domain_owner.password", "var.marketplace_token"} {
		uses := strings.Count(all, v)
		if uses == 0 || strings.Count(all, v+" | to_data") != uses {
			t.Errorf("%s is used %d times, not always through to_data:\n%s", v, uses, all)
		}
	}
}

// The vars, the only place of the password and the marketplace token, are spacectl's var
// block; the marketplace's are there only when it is used.
func TestVarsHoldTheSecrets(t *testing.T) {
	for _, market := range []bool{false, true} {
		a := args(market)
		text, err := vars(a, `pa"ss\word`, "mk-token")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Var map[string]any `yaml:"var"`
		}
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatal(err)
		}
		owner, _ := doc.Var["domain_owner"].(map[string]any)
		if owner["password"] != `pa"ss\word` || owner["id"] != "admin" {
			t.Errorf("vars: owner %v", owner)
		}
		if _, ok := doc.Var["marketplace_token"]; ok != market {
			t.Errorf("marketplace %v: the token is in the vars: %v", market, ok)
		}
	}
}

// A re-run (mode again) creates nothing that a first install created once: no owner, no key.
func TestRerunCreatesNoOwnerAndKeepsTheKey(t *testing.T) {
	a := args(false)
	a.Plugins = nil
	tasks := Tasks(a)
	counts := map[Mode]int{}
	for _, m := range Modes {
		counts[m] = len(InMode(tasks, m))
	}
	if want := map[Mode]int{ModeFirst: 11, ModeAgain: 6, ModeRotate: 9, ModeRekey: 10}; !maps.Equal(counts, want) {
		t.Errorf("tasks per mode: %v; want %v", counts, want)
	}
	for _, task := range tasks {
		exec := task.Spec["mode"] == "EXEC" && task.Spec["verb"].(map[string]any)["exec"] != "update"
		if (exec || task.Uses == "@modules/shell") && (!task.RunsIn(ModeFirst) || task.RunsIn(ModeAgain)) {
			t.Errorf("task %v creates or hands over something but also runs on a re-run (modes %v)", task.ID, task.Only)
		}
		// Without a working key on an initialised platform, only the owner's creation is left out.
		if task.RunsIn(ModeRekey) != (task.RunsIn(ModeFirst) && task.ID != "domain_owner") {
			t.Errorf("task %v: in a rekey run %v (modes %v)", task.ID, task.RunsIn(ModeRekey), task.Only)
		}
		// A rotation makes a new key and hands it over, and creates nothing else.
		if task.Only != nil && task.RunsIn(ModeRotate) != slices.Contains([]string{"api_key", "api_key_login", "keep_key", "domain_owner_password"}, task.ID) {
			t.Errorf("task %v: in a rotation %v (modes %v)", task.ID, task.RunsIn(ModeRotate), task.Only)
		}
	}
	// Plugins are registered in every mode.
	for _, task := range pluginTasks(args(false).Plugins) {
		if task.Only != nil {
			t.Errorf("plugin task %v runs only in %v", task.ID, task.Only)
		}
	}
}
