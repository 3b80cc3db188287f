package program

import (
	"encoding/json"
	"path"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"gopkg.in/yaml.v3"
)

var registerBody = regexp.MustCompile(`exec register repository.Plugin -j '(\{[^']*\})'`)

// A stack's plugins reach the initializer as register tasks counted in every mode, and a
// private registry reaches the repository's config; the supervisor pulls with the stack's
// pull secrets.
func TestPluginsAreRegisteredFromTheirRegistry(t *testing.T) {
	cfg := config112()
	cfg["plugins"] = []any{
		map[string]any{"name": "fakecloud", "image": "registry.local:5000/team/fakecloud-collector", "version": "1.12.12",
			"serviceType": "inventory.Collector", "provider": "fakecloud"},
		map[string]any{"name": "aws-ec2", "image": "spaceone/plugin-aws-ec2-inven-collector", "version": "1.12.0", "serviceType": "inventory.Collector"},
	}
	cfg["images"] = map[string]any{"insecureRegistry": true, "pullSecrets": []string{"regcred"}}
	m := run(t, cfg)
	files := configData(m)

	// The plugin tasks, as each mode's task file has them: the same in every mode.
	type task struct {
		ID   string         `yaml:"id"`
		Spec map[string]any `yaml:"spec"`
	}
	var pluginTasks []task
	for mode, run := range initializerManifest(t, m).Modes {
		var doc struct {
			Tasks []task `yaml:"tasks"`
		}
		if err := yaml.Unmarshal([]byte(files["initializer-files/"+path.Base(run.Tasks)]), &doc); err != nil {
			t.Fatal(err)
		}
		var these []task
		for _, task := range doc.Tasks {
			if task.ID == "local_repository" || strings.HasPrefix(task.ID, "plugin_") {
				these = append(these, task)
			}
		}
		if pluginTasks != nil && !reflect.DeepEqual(these, pluginTasks) {
			t.Errorf("mode %s registers the plugins otherwise: %v", mode, these)
		}
		pluginTasks = these
	}
	registered := map[string]map[string]any{}
	for _, task := range pluginTasks {
		// The registration is a shell task (1.10.4 lists plugins only by repository): its
		// register call's JSON body.
		run, _ := task.Spec["run"].(string)
		if m := registerBody.FindStringSubmatch(run); m != nil {
			var data map[string]any
			if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
				t.Fatalf("task %s registers with a body that is not JSON: %v\n%s", task.ID, err, run)
			}
			registered[data["name"].(string)] = data
		}
	}
	if got := registered["fakecloud"]; got == nil || got["image"] != "team/fakecloud-collector" || got["registry_type"] != "HARBOR" || got["provider"] != "fakecloud" {
		t.Errorf("fakecloud registered as %v, want image team/fakecloud-collector from HARBOR", got)
	}
	if got := registered["aws-ec2"]; got == nil || got["image"] != "spaceone/plugin-aws-ec2-inven-collector" || got["registry_type"] != "DOCKER_HUB" {
		t.Errorf("aws-ec2 registered as %v, want a Docker Hub image", got)
	}
	if len(pluginTasks) != 1+2*2 {
		t.Errorf("%d plugin tasks, want the local repository and, per plugin, its registration and version check", len(pluginTasks))
	}

	// The task counts the initializer checks include them; without plugins they are 5 fewer.
	with, without := initializerManifest(t, m), initializerManifest(t, run(t, config112()))
	for _, mode := range initializer.Modes {
		if a, b := with.Modes[mode].Count, without.Modes[mode].Count; a-b != 5 {
			t.Errorf("mode %s expects %d tasks with two plugins, %d without", mode, a, b)
		}
	}

	repo := files["repository-config/config.yaml"]
	for _, want := range []string{"HARBOR: registry.local:5000", "base_url: http://registry.local:5000"} {
		if !strings.Contains(repo, want) {
			t.Errorf("repository config lacks %q:\n%s", want, repo)
		}
	}
	sup := files["supervisor-config/config.yaml"]
	if !strings.Contains(sup, "imagePullSecrets:\n") || !strings.Contains(sup, "name: regcred") {
		t.Errorf("supervisor's Kubernetes connector lacks the pull secret:\n%s", sup)
	}
}

// Without plugins, nothing of the kind is rendered.
func TestNoPluginsNoRegistration(t *testing.T) {
	files := configData(run(t, config112()))
	for k, v := range files {
		if strings.HasPrefix(k, "initializer-files/tasks-") && strings.Contains(v, "plugin_") {
			t.Errorf("%s registers plugins without plugins", k)
		}
		if strings.HasPrefix(k, "repository-") && strings.Contains(v, "HarborConnector") {
			t.Errorf("%s names a plugin registry without plugins", k)
		}
	}
}
