package initializer

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
)

// Mode is one way a run of the initializer goes. initialize.py picks it when it starts, from
// what the key store and identity answer; the Go side says which tasks each mode runs.
type Mode string

const (
	ModeFirst  Mode = "first"  // empty database: create everything, hand the new key over
	ModeAgain  Mode = "again"  // initialised (the handed-over key works): set the password, find the rest, keep the key
	ModeRotate Mode = "rotate" // as again, plus a new key handed over (asked for: KeyRotation)
	// ModeRekey: the root domain exists but no working key was handed over (the stores'
	// volumes kept across a destroy, the key store emptied): log in as its owner, find the
	// rest, make a key.
	ModeRekey Mode = "rekey"
)

// Modes are every mode of a run.
var Modes = []Mode{ModeFirst, ModeAgain, ModeRotate, ModeRekey}

// Task is one spacectl task and the modes it runs in. A task runs in every mode unless it
// names some: each mode gets a task file of its own, so no task carries a condition.
type Task struct {
	ID, Name string
	Uses     string         // spacectl's module: @modules/resource or @modules/shell
	Spec     map[string]any // the module's arguments
	Only     []Mode         // nil: every mode
}

// RunsIn says whether the task is in mode m's file.
func (t Task) RunsIn(m Mode) bool { return t.Only == nil || slices.Contains(t.Only, m) }

// spacectl is the task as spacectl reads it (lib/apply/task_manager.py refuses other keys).
func (t Task) spacectl() map[string]any {
	return map[string]any{"id": t.ID, "name": t.Name, "uses": t.Uses, "spec": t.Spec}
}

// InMode is the tasks of mode m, in order.
func InMode(tasks []Task, m Mode) []Task {
	var out []Task
	for _, t := range tasks {
		if t.RunsIn(m) {
			out = append(out, t)
		}
	}
	return out
}

// in names the modes a task runs in.
func in(modes ...Mode) []Mode { return modes }

// resource is a task of spacectl's resource module.
func resource(id, name string, only []Mode, typ, verbMode string, data map[string]any, extra map[string]any) Task {
	spec := map[string]any{"resource_type": typ, "mode": verbMode, "data": data}
	for k, v := range extra {
		spec[k] = v
	}
	return Task{ID: id, Name: name, Uses: "@modules/resource", Spec: spec, Only: only}
}

func shell(id, name string, only []Mode, run string) Task {
	return Task{ID: id, Name: name, Uses: "@modules/shell", Spec: map[string]any{"run": run}, Only: only}
}

// secretValue renders a variable through spacectl's to_data filter, which JSON-escapes it:
// spacectl renders values raw into JSON, so a `"` or `\` in a password would break the task.
func secretValue(v string) string { return "${{ " + v + " | to_data }}" }

// KeyFile is where the last task leaves the new key for initialize.py to hand over (the
// pod's own emptyDir; the key never reaches spacectl's printed output).
const KeyFile = spacectlHome + "/api_key"

// Tasks is every task of a run, in order (root domain, then marketplace and plugins when used).
func Tasks(a *Args) []Task {
	t := rootDomainTasks()
	if a.HasMarketplaceToken {
		t = append(t, marketplaceTasks()...)
	}
	if len(a.Plugins) > 0 {
		t = append(t, pluginTasks(a.Plugins)...)
	}
	return t
}

// rootDomainTasks: the root domain, its owner (the console login), an API user with a system
// role and its key, the key kept for the hand-off. In mode again the owner's password is set,
// the rest is found, and the key is kept.
func rootDomainTasks() []Task {
	domainID := "${{ tasks.domain.output.domain_id }}"
	newKey := in(ModeFirst, ModeRotate, ModeRekey)
	ownerLogin := in(ModeFirst, ModeRekey)
	return []Task{
		resource("domain", "Find or create the root domain", nil, "identity.Domain", "NO_UPDATE",
			map[string]any{"name": "${{ var.domain.root }}", "config": map[string]any{"LANGUAGE": "${{ var.default_language }}", "TIMEZONE": "${{ var.default_timezone }}"}},
			map[string]any{"matches": []string{"name"}}),
		resource("domain_owner", "Create the domain owner (the console login)", in(ModeFirst), "identity.DomainOwner", "EXEC",
			map[string]any{"name": "Domain Admin", "owner_id": "${{ var.domain_owner.id }}", "password": secretValue("var.domain_owner.password"), "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "create"}}),
		resource("domain_owner_password", "Set the domain owner's password", in(ModeAgain, ModeRotate), "identity.DomainOwner", "EXEC",
			map[string]any{"owner_id": "${{ var.domain_owner.id }}", "password": secretValue("var.domain_owner.password"), "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "update"}}),
		resource("domain_owner_token", "Log in as the domain owner", ownerLogin, "identity.Token", "EXEC",
			map[string]any{"user_id": "${{ var.domain_owner.id }}", "user_type": "DOMAIN_OWNER",
				"credentials": map[string]any{"password": secretValue("var.domain_owner.password")}, "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "issue"}}),
		shell("owner_login", "Use the owner's token", ownerLogin,
			"spacectl config set api_key ${{ tasks.domain_owner_token.output.access_token }} > /dev/null\n"),
		resource("system_policy", "Find or create the system policy", nil, "identity.Policy", "NO_UPDATE",
			map[string]any{"name": "System Full Access", "permissions": []string{"*"}, "domain_id": domainID},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("system_role", "Find or create the system role", nil, "identity.Role", "NO_UPDATE",
			map[string]any{"name": "System Admin", "role_type": "SYSTEM", "domain_id": domainID,
				"policies": []any{map[string]any{"policy_type": "CUSTOM", "policy_id": "${{ tasks.system_policy.output.policy_id }}"}}},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("api_user", "Find or create the API user", nil, "identity.User", "NO_UPDATE",
			map[string]any{"user_id": "${{ var.user.id }}", "user_type": "API_USER", "backend": "LOCAL", "domain_id": domainID},
			map[string]any{"matches": []string{"user_id", "domain_id"}}),
		resource("api_user_role", "Bind the system role to the API user", nil, "identity.RoleBinding", "NO_UPDATE",
			map[string]any{"resource_type": "identity.User", "resource_id": "${{ var.user.id }}",
				"role_id": "${{ tasks.system_role.output.role_id }}", "domain_id": domainID},
			map[string]any{"matches": []string{"resource_id", "role_id", "domain_id"}}),
		resource("api_key", "Create the API key", newKey, "identity.APIKey", "EXEC",
			map[string]any{"user_id": "${{ var.user.id }}", "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "create"}}),
		shell("api_key_login", "Use the API key", newKey,
			"spacectl config set api_key ${{ tasks.api_key.output.api_key }} > /dev/null\n"),
		shell("keep_key", "Keep the API key for the token consumers", newKey,
			"umask 077 && printf '%s' '${{ tasks.api_key.output.api_key }}' > "+KeyFile+"\n"),
	}
}

func marketplaceTasks() []Task {
	domainID := "${{ tasks.domain.output.domain_id }}"
	return []Task{
		resource("marketplace_secret", "Store the marketplace token", nil, "secret.Secret", "NO_UPDATE",
			map[string]any{"name": "marketplace-token", "secret_type": "CREDENTIALS", "domain_id": domainID,
				"data": map[string]any{"token": secretValue("var.marketplace_token")}},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("marketplace", "Register the marketplace repository", nil, "repository.Repository", "NO_UPDATE",
			map[string]any{"name": "Marketplace", "repository_type": "remote", "endpoint": "${{ var.marketplace_endpoint }}",
				"secret_id": "${{ tasks.marketplace_secret.output.secret_id }}", "domain_id": domainID},
			map[string]any{"matches": []string{"name", "domain_id"}, "verb": map[string]any{"create": "register"}}),
	}
}

// Plugin is one plugin to register in the local repository, as SpaceONE's repository takes it.
type Plugin struct {
	Name         string
	Image        string // the path under its registry
	RegistryType string // catalog.RegistryDockerHub or catalog.RegistryHarbor
	Version      string // must be among the registry's tags
	ServiceType  string
	Provider     string
}

// ID is the plugin_id SpaceONE derives from the image: its last path segment.
func (p Plugin) ID() string { return path.Base(p.Image) }

// pluginTasks registers the local repository (SpaceONE creates none) and each plugin in it,
// unless a plugin of its name is there already, in every mode. The repository asks the
// plugin's registry for its versions when registering it; the check after each makes a
// version missing from the registry fail this run, not a collector later. Shell tasks, as
// 1.10.4's repository lists plugins only with a repository_id, which its register call does
// not take (spacectl's resource module lists with the fields it creates with).
func pluginTasks(plugins []Plugin) []Task {
	domainID := "${{ tasks.domain.output.domain_id }}"
	tasks := []Task{resource("local_repository", "Find or register the local repository", nil, "repository.Repository", "NO_UPDATE",
		map[string]any{"name": "local", "repository_type": "local"},
		map[string]any{"matches": []string{"name"}, "verb": map[string]any{"create": "register"}})}
	for i, p := range plugins {
		reg := map[string]any{"name": p.Name, "image": p.Image, "registry_type": p.RegistryType, "service_type": p.ServiceType,
			"domain_id": domainID, "tags": map[string]any{"managed-by": "spaceone-pulumi"}}
		if p.Provider != "" {
			reg["provider"] = p.Provider
		}
		body, _ := json.Marshal(reg) // settings allow no quote in any of these values
		tasks = append(tasks,
			shell(fmt.Sprintf("plugin_%d", i), "Find or register plugin "+p.Name, nil, fmt.Sprintf(
				"found=$(spacectl list repository.Plugin -p repository_id=${{ tasks.local_repository.output.repository_id }} -p 'name=%[1]s' -p domain_id=%[2]s -o json 2>&1)\n"+
					"case \"$found\" in\n"+
					"  *'\"plugin_id\"'*) echo \"plugin %[1]s: registered already\" ;;\n"+
					"  *ERROR*) echo \"plugin %[1]s: $found\"; exit 1 ;;\n"+
					"  *) out=$(spacectl exec register repository.Plugin -j '%[3]s' -o json 2>&1)\n"+
					"     case \"$out\" in *'\"plugin_id\"'*) echo \"plugin %[1]s: registered\" ;; *) echo \"plugin %[1]s: $out\"; exit 1 ;; esac ;;\n"+
					"esac\n", p.Name, domainID, body)),
			shell(fmt.Sprintf("plugin_%d_version", i), "Check that version "+p.Version+" of plugin "+p.Name+" is in its registry", nil, fmt.Sprintf(
				"out=$(spacectl exec get_versions repository.Plugin -p plugin_id=%s -p domain_id=%s -o json 2>&1)\n"+
					"case \"$out\" in *'\"%s\"'*) ;; *) echo \"plugin %s: version %s is not among the versions its registry lists for %s: $out\"; exit 1;; esac\n",
				p.ID(), domainID, p.Version, p.Name, p.Version, p.Image)))
	}
	return tasks
}
