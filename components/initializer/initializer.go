// Package initializer runs `spacectl apply` once the gRPC services are up: it creates the
// root domain and its owner (the console login), an API user with a system role and an API
// key, and hands that key to the token consumers the release's way: into Consul
// (root/api_key/TOKEN), or into the key's Kubernetes Secrets (package apikey). No one copies
// a token out of a pod log.
package initializer

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
)

// Args configures the initializer.
type Args struct {
	Namespace   pulumi.StringInput
	Image       string
	Tag         string
	PullPolicy  string
	PullSecrets []string
	// Endpoints maps each gRPC service spacectl may call to grpc://host:port.
	Endpoints map[string]string
	// KeyHandoff is where the key goes: catalog.HandoffConsul (Consul, at host:port Consul)
	// or catalog.HandoffSecret (KeySecrets, namespace/name, written as ServiceAccount).
	KeyHandoff     string
	Consul         string
	KeySecrets     []string
	ServiceAccount pulumi.StringInput
	Domain         string // root domain name
	AdminUser      string
	AdminPassword  pulumi.StringOutput // secret
	APIUser        string
	// MarketplaceToken, when set, also registers the public marketplace (needs internet).
	MarketplaceToken    pulumi.StringOutput
	HasMarketplaceToken bool
	MarketplaceEndpoint string
	TimeoutMinutes      int
	Waits               kube.Waits // what it calls must answer first (the platform's start order)
	// Plugins are registered in the local repository on every run (found when they exist).
	Plugins []Plugin
	// KeyRotation, when it differs from the value the last rotation recorded beside the key,
	// makes this run create a new API key, hand it over and disable the old one
	// (spaceone:initializer.rotateApiKey); "" never rotates.
	KeyRotation string
	// Restored names the backup spaceone:restore put back: a new name runs the initializer
	// again, after the restore, on the restored data.
	Restored string
	// Repair is set when up found the API key gone from where the release keeps it: a new
	// value runs the initializer again, which then makes and hands over a new key (rekey).
	Repair string
}

// Initializer is the spacectl Job and its files.
type Initializer struct {
	pulumi.ResourceState
	Job   *batchv1.Job
	Files map[string]string // the non-secret files, by name (for tests and review)
}

const filesDir, secretDir = "/spacectl", "/spacectl-secret"

// Files renders the spacectl task files. None holds a secret: the password and tokens live
// in main.yaml's var block, which is a Secret.
func Files(a *Args) (map[string]string, error) {
	names := make([]string, 0, len(a.Endpoints))
	for n := range a.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	endpoints := map[string]string{}
	for _, n := range names {
		endpoints[n] = a.Endpoints[n]
	}
	env, err := yaml.Marshal(map[string]any{"endpoints": endpoints})
	if err != nil {
		return nil, err
	}
	rootDomain, err := yaml.Marshal(map[string]any{"tasks": rootDomainTasks()})
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"environment.yml": "environment: default\n",
		"default.yml":     string(env),
		"root_domain.yaml": "# Root domain, its owner (the console login), an API user with a system role and its key,\n" +
			"# the key kept for the hand-off to the token consumers. In mode 'again' (the platform is\n" +
			"# initialised) the owner's password is set, the rest is found, and the key is kept.\n" + string(rootDomain),
		"initialize.py": initializePy,
	}
	if a.HasMarketplaceToken {
		mk, err := yaml.Marshal(map[string]any{"tasks": marketplaceTasks()})
		if err != nil {
			return nil, err
		}
		files["marketplace.yaml"] = string(mk)
	}
	if len(a.Plugins) > 0 {
		pl, err := yaml.Marshal(map[string]any{"tasks": pluginTasks(a.Plugins)})
		if err != nil {
			return nil, err
		}
		files["plugins.yaml"] = "# The stack's plugins (spaceone:plugins) in the local repository, each checked to have its\n" +
			"# version in its registry; found, not changed, when registered already.\n" + string(pl)
	}
	return files, nil
}

// Tasks is every task of a run, in order (root domain, then marketplace and plugins when used).
func Tasks(a *Args) []any {
	t := rootDomainTasks()
	if a.HasMarketplaceToken {
		t = append(t, marketplaceTasks()...)
	}
	if len(a.Plugins) > 0 {
		t = append(t, pluginTasks(a.Plugins)...)
	}
	return t
}

// New creates the Job (auto-named: a change to any input makes a new Job) and waits for it.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Initializer, error) {
	in := &Initializer{}
	if err := ctx.RegisterComponentResource("spaceone:initializer:Initializer", name, in, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(in)
	labels := kube.Labels("initializer", "initializer", args.Tag)
	files, err := Files(args)
	if err != nil {
		return nil, err
	}
	in.Files = files
	data := pulumi.StringMap{}
	for k, v := range files {
		data[k] = pulumi.String(v)
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-files", &corev1.ConfigMapArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}), Immutable: pulumi.Bool(true), Data: data,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating initializer files: %w", err)
	}
	imports := []string{filesDir + "/root_domain.yaml"}
	if args.HasMarketplaceToken {
		imports = append(imports, filesDir+"/marketplace.yaml")
	}
	if len(args.Plugins) > 0 {
		imports = append(imports, filesDir+"/plugins.yaml")
	}
	token := pulumi.String("").ToStringOutput()
	if args.HasMarketplaceToken {
		token = args.MarketplaceToken
	}
	mainYAML := pulumi.ToSecret(pulumi.All(args.AdminPassword, token).ApplyT(func(v []any) (string, error) {
		vars := map[string]any{
			"domain":           map[string]any{"root": args.Domain},
			"default_language": "en",
			"default_timezone": "UTC",
			"domain_owner":     map[string]any{"id": args.AdminUser, "password": v[0].(string)},
			"user":             map[string]any{"id": args.APIUser},
		}
		if args.HasMarketplaceToken { // only then: the marketplace tasks are the only readers
			vars["marketplace_endpoint"], vars["marketplace_token"] = args.MarketplaceEndpoint, v[1].(string)
		}
		b, err := yaml.Marshal(map[string]any{"import": imports, "var": vars, "tasks": []any{}})
		return string(b), err
	})).(pulumi.StringOutput)
	sec, err := corev1.NewSecret(ctx, name+"-main", &corev1.SecretArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}), Immutable: pulumi.Bool(true),
		Type: pulumi.String("Opaque"), Data: kube.SecretData(map[string]pulumi.StringOutput{"main.yaml": mainYAML}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating initializer secret: %w", err)
	}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_HANDOFF"), Value: pulumi.String(args.KeyHandoff)},
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_FILE"), Value: pulumi.String(KeyFile)},
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_ROTATION"), Value: pulumi.String(args.KeyRotation)},
	}
	if args.Restored != "" {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_RESTORED"), Value: pulumi.String(args.Restored)})
	}
	if args.Repair != "" {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_REPAIR"), Value: pulumi.String(args.Repair)})
	}
	counts := TaskCounts(Tasks(args))
	for _, mode := range Modes { // SPACEONE_TASKS_FIRST ...: what spacectl must report done
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_TASKS_" + strings.ToUpper(mode)), Value: pulumi.String(strconv.Itoa(counts[mode]))})
	}
	// Only with the key in Secrets does the pod talk to the Kubernetes API, as the one
	// ServiceAccount that may write them.
	var serviceAccount pulumi.StringPtrInput
	automount := false
	switch args.KeyHandoff {
	case catalog.HandoffConsul:
		env = append(env,
			corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_CONSUL"), Value: pulumi.String(args.Consul)},
			corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_PATH"), Value: pulumi.String(microservice.TokenKeyPath)})
	case catalog.HandoffSecret:
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_KEY_SECRETS"), Value: pulumi.String(strings.Join(args.KeySecrets, ","))})
		serviceAccount, automount = args.ServiceAccount.ToStringOutput().ToStringPtrOutput(), true
	default:
		return nil, fmt.Errorf("unknown key hand-off %q", args.KeyHandoff)
	}
	timeout := args.TimeoutMinutes
	if timeout <= 0 { // the default lives in settings.Load
		return nil, fmt.Errorf("initializer: no timeout (TimeoutMinutes %d)", timeout)
	}
	job, err := batchv1.NewJob(ctx, name, &batchv1.JobArgs{
		Metadata: args.Waits.Annotate(kube.Managed(&metav1.ObjectMetaArgs{
			Namespace: args.Namespace, Labels: labels,
			Annotations: pulumi.StringMap{"pulumi.com/timeoutSeconds": pulumi.String(strconv.Itoa(timeout * 60))},
		})),
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(4),
			ActiveDeadlineSeconds: pulumi.Int(timeout * 60),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                 pulumi.String("Never"),
					ServiceAccountName:            serviceAccount,
					AutomountServiceAccountToken:  pulumi.Bool(automount),
					TerminationGracePeriodSeconds: pulumi.Int(5),
					ImagePullSecrets:              kube.PullSecrets(args.PullSecrets),
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("files"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name().Elem()}},
						corev1.VolumeArgs{Name: pulumi.String("main"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: sec.Metadata.Name().Elem()}},
						corev1.VolumeArgs{Name: pulumi.String("home"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("spacectl"),
						Image:           pulumi.String(args.Image),
						ImagePullPolicy: pulumi.String(args.PullPolicy),
						Command:         pulumi.ToStringArray([]string{"python3", filesDir + "/initialize.py"}),
						Env:             env,
						// spacectl's error, as initialize.py prints it last, becomes the pod's
						// termination message, which `pulumi up` shows when the Job fails.
						TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("files"), MountPath: pulumi.String(filesDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("main"), MountPath: pulumi.String(secretDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("home"), MountPath: pulumi.String("/root/.spaceone")},
						},
						Resources:       kube.Resources("50m", "128Mi", "1", "512Mi"),
						SecurityContext: kube.RestrictedContainer(),
					}},
				},
			},
		},
	}, parent, pulumi.DependsOn(append([]pulumi.Resource{cm, sec}, args.Waits.Resources...)),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: fmt.Sprintf("%dm", timeout), Update: fmt.Sprintf("%dm", timeout)}))
	if err != nil {
		return nil, fmt.Errorf("creating initializer job: %w", err)
	}
	in.Job = job
	return in, ctx.RegisterResourceOutputs(in, pulumi.Map{"job": job.Metadata.Name()})
}

// initializePy wraps `spacectl apply`: it picks the mode (first install, or again on an
// initialised platform), hides what spacectl would print of secrets, and exits non-zero
// unless every task of the mode succeeded (spacectl exits 0 on some of its own errors).
//
//go:embed initialize.py
var initializePy string

// task is one spacectl task: a task's own keys, and its module's arguments under spec.
// mode is "" (every mode), one mode, or several joined by commas ("first,rotate").
func task(id, name, uses, mode string, spec map[string]any) map[string]any {
	t := map[string]any{"id": id, "name": name, "uses": uses, "spec": spec}
	switch modes := strings.Split(mode, ","); {
	case mode == "":
	case len(modes) == 1:
		t["if"] = "'${{ var.mode }}' == '" + mode + "'"
	default: // spacectl evals the rendered condition as Python
		t["if"] = "'${{ var.mode }}' in ('" + strings.Join(modes, "', '") + "')"
	}
	return t
}

// resource is a task of spacectl's resource module.
func resource(id, name, mode, typ, verbMode string, data map[string]any, extra map[string]any) map[string]any {
	spec := map[string]any{"resource_type": typ, "mode": verbMode, "data": data}
	for k, v := range extra {
		spec[k] = v
	}
	return task(id, name, "@modules/resource", mode, spec)
}

func shell(id, name, mode, run string) map[string]any {
	return task(id, name, "@modules/shell", mode, map[string]any{"run": run})
}

// secretValue renders a variable through spacectl's to_data filter, which JSON-escapes it:
// spacectl renders values raw into JSON, so a `"` or `\` in a password would break the task.
func secretValue(v string) string { return "${{ " + v + " | to_data }}" }

// Modes of a run: every task runs in both unless it names one.
const (
	modeFirst  = "first"  // empty database: create everything, hand the new key over
	modeAgain  = "again"  // initialised (the handed-over key works): set the password, find the rest, keep the key
	modeRotate = "rotate" // as again, plus a new key handed over (asked for: KeyRotation)
	// The root domain exists but no working key was handed over (the stores' volumes kept
	// across a destroy, the key store emptied): log in as its owner, find the rest, make a key.
	modeRekey = "rekey"
)

// Modes are every mode of a run.
var Modes = []string{modeFirst, modeAgain, modeRotate, modeRekey}

// TaskCounts is how many tasks spacectl must report done in each mode.
func TaskCounts(tasks []any) map[string]int {
	counts := map[string]int{}
	for _, t := range tasks {
		cond, _ := t.(map[string]any)["if"].(string)
		for _, mode := range Modes {
			if cond == "" || strings.Contains(cond, "'"+mode+"'") {
				counts[mode]++
			}
		}
	}
	return counts
}

// KeyFile is where the last task leaves the new key for initialize.py to hand over (the
// pod's own emptyDir; the key never reaches spacectl's printed output).
const KeyFile = "/root/.spaceone/api_key"

func rootDomainTasks() []any {
	domainID := "${{ tasks.domain.output.domain_id }}"
	return []any{
		resource("domain", "Find or create the root domain", "", "identity.Domain", "NO_UPDATE",
			map[string]any{"name": "${{ var.domain.root }}", "config": map[string]any{"LANGUAGE": "${{ var.default_language }}", "TIMEZONE": "${{ var.default_timezone }}"}},
			map[string]any{"matches": []string{"name"}}),
		resource("domain_owner", "Create the domain owner (the console login)", modeFirst, "identity.DomainOwner", "EXEC",
			map[string]any{"name": "Domain Admin", "owner_id": "${{ var.domain_owner.id }}", "password": secretValue("var.domain_owner.password"), "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "create"}}),
		resource("domain_owner_password", "Set the domain owner's password", modeAgain+","+modeRotate, "identity.DomainOwner", "EXEC",
			map[string]any{"owner_id": "${{ var.domain_owner.id }}", "password": secretValue("var.domain_owner.password"), "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "update"}}),
		resource("domain_owner_token", "Log in as the domain owner", modeFirst+","+modeRekey, "identity.Token", "EXEC",
			map[string]any{"user_id": "${{ var.domain_owner.id }}", "user_type": "DOMAIN_OWNER",
				"credentials": map[string]any{"password": secretValue("var.domain_owner.password")}, "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "issue"}}),
		shell("owner_login", "Use the owner's token", modeFirst+","+modeRekey,
			"spacectl config set api_key ${{ tasks.domain_owner_token.output.access_token }} > /dev/null\n"),
		resource("system_policy", "Find or create the system policy", "", "identity.Policy", "NO_UPDATE",
			map[string]any{"name": "System Full Access", "permissions": []string{"*"}, "domain_id": domainID},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("system_role", "Find or create the system role", "", "identity.Role", "NO_UPDATE",
			map[string]any{"name": "System Admin", "role_type": "SYSTEM", "domain_id": domainID,
				"policies": []any{map[string]any{"policy_type": "CUSTOM", "policy_id": "${{ tasks.system_policy.output.policy_id }}"}}},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("api_user", "Find or create the API user", "", "identity.User", "NO_UPDATE",
			map[string]any{"user_id": "${{ var.user.id }}", "user_type": "API_USER", "backend": "LOCAL", "domain_id": domainID},
			map[string]any{"matches": []string{"user_id", "domain_id"}}),
		resource("api_user_role", "Bind the system role to the API user", "", "identity.RoleBinding", "NO_UPDATE",
			map[string]any{"resource_type": "identity.User", "resource_id": "${{ var.user.id }}",
				"role_id": "${{ tasks.system_role.output.role_id }}", "domain_id": domainID},
			map[string]any{"matches": []string{"resource_id", "role_id", "domain_id"}}),
		resource("api_key", "Create the API key", modeFirst+","+modeRotate+","+modeRekey, "identity.APIKey", "EXEC",
			map[string]any{"user_id": "${{ var.user.id }}", "domain_id": domainID},
			map[string]any{"verb": map[string]any{"exec": "create"}}),
		shell("api_key_login", "Use the API key", modeFirst+","+modeRotate+","+modeRekey,
			"spacectl config set api_key ${{ tasks.api_key.output.api_key }} > /dev/null\n"),
		shell("keep_key", "Keep the API key for the token consumers", modeFirst+","+modeRotate+","+modeRekey,
			"umask 077 && printf '%s' '${{ tasks.api_key.output.api_key }}' > "+KeyFile+"\n"),
	}
}

func marketplaceTasks() []any {
	domainID := "${{ tasks.domain.output.domain_id }}"
	return []any{
		resource("marketplace_secret", "Store the marketplace token", "", "secret.Secret", "NO_UPDATE",
			map[string]any{"name": "marketplace-token", "secret_type": "CREDENTIALS", "domain_id": domainID,
				"data": map[string]any{"token": secretValue("var.marketplace_token")}},
			map[string]any{"matches": []string{"name", "domain_id"}}),
		resource("marketplace", "Register the marketplace repository", "", "repository.Repository", "NO_UPDATE",
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
// unless a plugin of its name is there already. The repository asks the plugin's registry for
// its versions when registering it; the check after each makes a version missing from the
// registry fail this run, not a collector later. Shell tasks, as 1.10.4's repository lists
// plugins only with a repository_id, which its register call does not take (spacectl's
// resource module lists with the fields it creates with).
func pluginTasks(plugins []Plugin) []any {
	domainID := "${{ tasks.domain.output.domain_id }}"
	tasks := []any{resource("local_repository", "Find or register the local repository", "", "repository.Repository", "NO_UPDATE",
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
			shell(fmt.Sprintf("plugin_%d", i), "Find or register plugin "+p.Name, "", fmt.Sprintf(
				"found=$(spacectl list repository.Plugin -p repository_id=${{ tasks.local_repository.output.repository_id }} -p 'name=%[1]s' -p domain_id=%[2]s -o json 2>&1)\n"+
					"case \"$found\" in\n"+
					"  *'\"plugin_id\"'*) echo \"plugin %[1]s: registered already\" ;;\n"+
					"  *ERROR*) echo \"plugin %[1]s: $found\"; exit 1 ;;\n"+
					"  *) out=$(spacectl exec register repository.Plugin -j '%[3]s' -o json 2>&1)\n"+
					"     case \"$out\" in *'\"plugin_id\"'*) echo \"plugin %[1]s: registered\" ;; *) echo \"plugin %[1]s: $out\"; exit 1 ;; esac ;;\n"+
					"esac\n", p.Name, domainID, body)),
			shell(fmt.Sprintf("plugin_%d_version", i), "Check that version "+p.Version+" of plugin "+p.Name+" is in its registry", "", fmt.Sprintf(
				"out=$(spacectl exec get_versions repository.Plugin -p plugin_id=%s -p domain_id=%s -o json 2>&1)\n"+
					"case \"$out\" in *'\"%s\"'*) ;; *) echo \"plugin %s: version %s is not among the versions its registry lists for %s: $out\"; exit 1;; esac\n",
				p.ID(), domainID, p.Version, p.Name, p.Version, p.Image)))
	}
	return tasks
}
