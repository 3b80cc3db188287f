// Package supervisor deploys SpaceONE's plugin runner: a scheduler process that asks the
// plugin service which plugins (collectors, data sources) should run and creates a
// Deployment and Service for each in the plugin namespace. Its account may do exactly what
// its Kubernetes connector calls, in that namespace and nowhere else.
package supervisor

import (
	"cmp"
	"fmt"
	"net"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
)

// Name is the supervisor's Deployment and ServiceAccount name.
const Name = "supervisor"

// Rule is one RBAC rule; Rules is everything the 1.10.4 KubernetesConnector calls:
// read/create/delete Deployments, read/list/create/delete Services, read Endpoints.
type Rule struct {
	APIGroup string
	Resource string
	Verbs    []string
}

// Rules is the supervisor's whole permission set, bound in the plugin namespace only.
var Rules = []Rule{
	{APIGroup: "apps", Resource: "deployments", Verbs: []string{"get", "create", "delete"}},
	{APIGroup: "", Resource: "services", Verbs: []string{"get", "list", "create", "delete"}},
	{APIGroup: "", Resource: "endpoints", Verbs: []string{"get"}},
}

// Args configures the supervisor.
type Args struct {
	Namespace     pulumi.StringInput // the plugin namespace
	NamespaceName string
	CoreNamespace string // where plugin, repository, redis and consul live
	Image         string
	Tag           string
	PullPolicy    string
	PullSecrets   []string
	Redis, Consul struct {
		Host string
		Port int
	}
	// Replicas per plugin kind, e.g. {"inventory.Collector": 1}.
	Replicas map[string]int
	Waits    kube.Waits // what it waits for at a first install (the key: the initializer)
	// TokenReady, when set, is the readiness probe that passes once it holds the API key.
	TokenReady []string
	// Resources of its container (empty fields: 50m/160Mi requested, 500m/512Mi limit).
	Resources catalog.Resources
	// KeyRotation is spaceone:initializer.rotateApiKey (a new value restarts it).
	KeyRotation string
	// KeyHandoff is how it gets the API key: catalog.HandoffConsul (from Consul, above) or
	// catalog.HandoffSecret (the key's Secret in its own namespace, mounted).
	KeyHandoff string
}

// configDir is where the supervisor's config files live in its container.
const configDir = "/opt/spaceone/supervisor/config"

// Package is the supervisor's Python package: what its process runs, and the home of its
// config (TOKEN among its globals).
const Package = "spaceone.supervisor"

// Supervisor is the deployed plugin runner.
type Supervisor struct {
	pulumi.ResourceState
	Deployment *appsv1.Deployment
	Role       *rbacv1.Role
}

// Config is the supervisor's config.yaml. Everything it calls in the core namespace is named
// by FQDN, since it runs in the plugin namespace; HOSTNAME is the DNS suffix under which the
// plugin Services it creates resolve.
func Config(a *Args) (string, error) {
	fqdn := func(host string) string { return fmt.Sprintf("%s.%s.svc.cluster.local", host, a.CoreNamespace) }
	hostOf := func(h string) string {
		if isShortName(h) {
			return fqdn(h)
		}
		return h
	}
	replicas := a.Replicas
	if len(replicas) == 0 {
		replicas = map[string]int{"inventory.Collector": 1, "monitoring.DataSource": 1}
	}
	redis := map[string]any{"host": hostOf(a.Redis.Host), "port": a.Redis.Port}
	kubernetes := map[string]any{"namespace": a.NamespaceName, "start_port": catalog.GRPCPort, "end_port": catalog.GRPCPort + 1, "headless": true, "replica": replicas}
	if len(a.PullSecrets) > 0 { // the plugins' Deployments pull with the supervisor's own secrets
		var refs []map[string]string
		for _, n := range a.PullSecrets {
			refs = append(refs, map[string]string{"name": n})
		}
		kubernetes["imagePullSecrets"] = refs
	}
	doc := map[string]any{"GLOBAL": map[string]any{
		"NAME":        "root",
		"HOSTNAME":    a.NamespaceName + ".svc.cluster.local",
		"BACKEND":     "KubernetesConnector",
		"MAX_WORKERS": 1000,
		"HANDLERS":    map[string]any{},
		"CONNECTORS": map[string]any{
			"KubernetesConnector": kubernetes,
			"PluginConnector":     map[string]any{"endpoint": map[string]any{"v1": grpcURL(fqdn("plugin"))}},
			"RepositoryConnector": map[string]any{"endpoint": map[string]any{"v1": grpcURL(fqdn("repository"))}},
			"IdentityConnector":   map[string]any{"endpoint": map[string]any{"v1": grpcURL(fqdn("identity"))}},
		},
		// The upstream chart ran a private redis sidecar for these; the shared Redis does it.
		"QUEUES": map[string]any{"default_q": merge(map[string]any{
			"backend": "spaceone.core.queue.redis_queue.RedisQueue", "channel": "supervisor_queue"}, redis)},
		"CACHES": map[string]any{"default": merge(map[string]any{
			"backend": "spaceone.core.cache.redis_cache.RedisCache", "db": 2, "encoding": "utf-8",
			"socket_timeout": 10, "socket_connect_timeout": 10}, redis)},
		"SCHEDULERS": map[string]any{"sync": map[string]any{
			"backend": Package + ".scheduler.sync_scheduler.SyncScheduler", "interval": 20, "queue": "default_q"}},
		"WORKERS": map[string]any{"worker": map[string]any{
			"backend": "spaceone.core.scheduler.worker.BaseWorker", "pool": 1, "queue": "default_q"}},
		// Its log file is what the token readiness probe reads (catalogue tokenReady).
		"LOG": microservice.Log(Name, ""),
	}}
	global, remote := microservice.KeyImport(a.KeyHandoff, configDir, "", hostOf(a.Consul.Host), a.Consul.Port)
	for k, v := range global {
		doc["GLOBAL"].(map[string]any)[k] = v
	}
	if len(remote) > 0 {
		doc["REMOTE_URL"] = remote
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}

// New deploys the supervisor with its ServiceAccount, Role and RoleBinding.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Supervisor, error) {
	s := &Supervisor{}
	if err := ctx.RegisterComponentResource("spaceone:supervisor:Supervisor", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	labels := kube.Labels(Name, "supervisor", args.Tag)
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: kube.Meta(Name, args.Namespace, labels),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating supervisor service account: %w", err)
	}
	var rules rbacv1.PolicyRuleArray
	for _, r := range Rules {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String(r.APIGroup)},
			Resources: pulumi.StringArray{pulumi.String(r.Resource)},
			Verbs:     pulumi.ToStringArray(r.Verbs),
		})
	}
	role, err := rbacv1.NewRole(ctx, name, &rbacv1.RoleArgs{
		Metadata: kube.Meta("supervisor-plugins", args.Namespace, labels),
		Rules:    rules,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating supervisor role: %w", err)
	}
	s.Role = role
	binding, err := kube.BindRole(ctx, name, kube.Meta("supervisor-plugins", args.Namespace, labels), role,
		sa.Metadata.Name().Elem(), args.Namespace, parent)
	if err != nil {
		return nil, fmt.Errorf("creating supervisor role binding: %w", err)
	}
	text, err := Config(args)
	if err != nil {
		return nil, err
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}),
		Immutable: pulumi.Bool(true),
		Data:      pulumi.StringMap{"config.yaml": pulumi.String(text)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating supervisor config: %w", err)
	}
	dir, r := configDir, args.Resources
	volumes, mounts := kube.ConfigAndLogs(cm.Metadata.Name().Elem(), dir)
	if args.KeyHandoff == catalog.HandoffSecret {
		volumes = append(volumes, apikey.Volume())
		mounts = append(mounts, apikey.Mount(dir))
	}
	d, err := kube.Deployment(ctx, kube.Workload{
		Name: Name, Namespace: args.Namespace, Labels: labels, Replicas: 1, PullSecrets: args.PullSecrets,
		ServiceAccount: sa.Metadata.Name().Elem(), // it calls the Kubernetes API
		Waits:          args.Waits,
		PodAnnotations: apikey.RotationAnnotations(args.KeyRotation),
		Volumes:        volumes,
		Container: corev1.ContainerArgs{
			Name:            pulumi.String(Name),
			Image:           pulumi.String(args.Image),
			ImagePullPolicy: pulumi.String(args.PullPolicy),
			Command:         pulumi.ToStringArray([]string{"spaceone", "scheduler", Package}),
			Env: corev1.EnvVarArray{corev1.EnvVarArgs{
				Name: pulumi.String("SPACEONE_CONFIG_FILE"), Value: pulumi.String(dir + "/config.yaml"),
			}},
			VolumeMounts:    mounts,
			Resources:       kube.Resources(cmp.Or(r.CPURequest, "50m"), cmp.Or(r.MemoryRequest, "160Mi"), cmp.Or(r.CPULimit, "500m"), cmp.Or(r.MemoryLimit, "512Mi")),
			SecurityContext: kube.RestrictedContainer(),
			ReadinessProbe:  tokenProbe(args.TokenReady),
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{cm, binding}))
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	s.Deployment = d
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"role": role.Metadata.Name()})
}

func tokenProbe(command []string) *corev1.ProbeArgs {
	if len(command) == 0 {
		return nil
	}
	return kube.ExecProbe(5, command...)
}

func isShortName(h string) bool {
	for _, c := range h {
		if c == '.' {
			return false
		}
	}
	return true
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// grpcURL is the endpoint of a SpaceONE gRPC server on host, as python-core's connectors take it.
func grpcURL(host string) string {
	return "grpc://" + net.JoinHostPort(host, strconv.Itoa(catalog.GRPCPort))
}
