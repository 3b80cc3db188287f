package initializer

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// spacectl 1.10.4.2 (lib/apply/task_manager.py) refuses a task with any other key.
var taskKeys = []string{"id", "name", "uses", "spec", "var", "if", "loop", "sub_tasks", "debug"}

func args(marketplace bool) *Args {
	return &Args{Endpoints: map[string]string{"identity": "grpc://identity:50051"}, Consul: "consul:8500",
		Domain: "root", AdminUser: "admin", APIUser: "root_api_key", HasMarketplaceToken: marketplace}
}

// The task files have spacectl's shape: each imported file is {tasks: [...]}, a task has only
// spacectl's own keys, and module arguments sit under spec. (The shape this replaced, a
// bare list of flat tasks, was refused by spacectl, which still exited 0.)
func TestTaskFilesHaveSpacectlShape(t *testing.T) {
	files, err := Files(args(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"root_domain.yaml", "marketplace.yaml"} {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(files[name]), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc) != 1 || doc["tasks"] == nil {
			t.Fatalf("%s: want only a tasks key, got %v", name, doc)
		}
		for i, raw := range doc["tasks"].([]any) {
			task := raw.(map[string]any)
			for k := range task {
				if !slices.Contains(taskKeys, k) {
					t.Errorf("%s task %d: key %q is not one of spacectl's %v", name, i, k, taskKeys)
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

// Secrets reach spacectl's JSON through its to_data filter, which escapes `"` and `\`.
func TestSecretsAreEscapedForSpacectlJSON(t *testing.T) {
	files, err := Files(args(true))
	if err != nil {
		t.Fatal(err)
	}
	all := files["root_domain.yaml"] + files["marketplace.yaml"]
	for _, v := range []string{"var.domain_owner.password", "var.marketplace_token"} {
		uses := strings.Count(all, v)
		if uses == 0 || strings.Count(all, v+" | to_data") != uses {
			t.Errorf("%s is used %d times, not always through to_data:\n%s", v, uses, all)
		}
	}
}

// A re-run (mode again) creates nothing that a first install created once: no owner, no key.
func TestRerunCreatesNoOwnerAndKeepsTheKey(t *testing.T) {
	tasks := Tasks(args(false))
	counts := TaskCounts(tasks)
	if want := map[string]int{"first": 11, "again": 6, "rotate": 9, "rekey": 10}; !maps.Equal(counts, want) {
		t.Errorf("tasks per mode: %v; want %v", counts, want)
	}
	for _, raw := range tasks {
		task := raw.(map[string]any)
		spec := task["spec"].(map[string]any)
		cond, _ := task["if"].(string)
		exec := spec["mode"] == "EXEC" && spec["verb"].(map[string]any)["exec"] != "update"
		if (exec || task["uses"] == "@modules/shell") && (!strings.Contains(cond, "'first'") || strings.Contains(cond, "'again'")) {
			t.Errorf("task %v creates or hands over something but also runs on a re-run (if: %q)", task["id"], cond)
		}
		// Without a working key on an initialised platform, only the owner's creation is left out.
		if task["id"] == "domain_owner" && strings.Contains(cond, "'rekey'") || task["id"] != "domain_owner" && strings.Contains(cond, "'first'") && !strings.Contains(cond, "'rekey'") {
			t.Errorf("task %v: in a rekey run %v (if: %q)", task["id"], strings.Contains(cond, "'rekey'"), cond)
		}
		// A rotation makes a new key and hands it over, and creates nothing else.
		if strings.Contains(cond, "'rotate'") != (task["id"] == "api_key" || task["id"] == "api_key_login" || task["id"] == "keep_key" || task["id"] == "domain_owner_password") && cond != "" {
			t.Errorf("task %v: in a rotation %v (if: %q)", task["id"], strings.Contains(cond, "'rotate'"), cond)
		}
	}
}
