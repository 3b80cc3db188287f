// Package platform assembles SpaceONE on a cluster: namespaces, stores, services and
// frontend, in the order a first install needs.
package platform

import (
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/cluster"
	"github.com/spaceone-pulumi/spaceone/components/frontend"
	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/stores"
	"github.com/spaceone-pulumi/spaceone/components/supervisor"
)

// Args is everything the platform is built from.
type Args struct {
	Settings *settings.Settings
	Cluster  cluster.Cluster
	Plan     *Plan
}

// Platform is one SpaceONE installation.
type Platform struct {
	pulumi.ResourceState

	Namespace       pulumi.StringOutput
	PluginNamespace pulumi.StringOutput
	MongoDB         *stores.MongoDB
	Redis           *stores.Redis
	Consul          *stores.Consul  // nil when the release runs no Consul
	KeyHandoff      *apikey.Handoff // nil when the key goes through Consul
	Services        map[string]*microservice.Microservice
	Frontend        *frontend.Frontend
	Initializer     *initializer.Initializer
	Supervisor      *supervisor.Supervisor
	Backups         *backup.Backups     // nil without an in-cluster MongoDB on a local cluster
	AdminPassword   pulumi.StringOutput // secret
	Images          map[string]string   // images outside the catalogue's services, by workload
	// DevEndpoints is where a laptop reaches each gRPC service and store, and DevConfig a
	// ready-to-run config file per service for running it there (secret).
	DevEndpoints map[string]DevEndpoint
	DevConfig    pulumi.StringMapOutput
	// StartOrder is what waits for what in this stack (the README draws it).
	StartOrder *StartOrder
	started    *readiness
}

// New deploys the platform. Every Kubernetes resource goes through the cluster's provider.
// The stores come first (every other component reads their endpoints), then the components
// in the plan's start order, each registered once with exactly what it waits for.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Platform, error) {
	s := args.Settings
	order := args.Plan.StartOrder
	if order == nil {
		return nil, fmt.Errorf("platform %s: the plan has no start order (platform.NewStartOrder)", name)
	}
	p := &Platform{Images: map[string]string{}, StartOrder: order}
	p.started = &readiness{order: order, ready: map[string][]pulumi.Resource{}}
	opts = append(opts, pulumi.Provider(args.Cluster.Provider()))
	if err := ctx.RegisterComponentResource("spaceone:platform:Platform", name, p, opts...); err != nil {
		return nil, err
	}
	// Everything lives in these namespaces, so hanging them after the cluster's add-ons orders
	// the whole platform after them: created later, deleted first.
	after := args.Cluster.Capabilities().Ready
	core, err := namespace(ctx, p, s.Namespace, "core", after)
	if err != nil {
		return nil, err
	}
	plugins, err := namespace(ctx, p, s.PluginNamespace, "plugins", after)
	if err != nil {
		return nil, err
	}
	p.Namespace = core.Metadata.Name().Elem()
	p.PluginNamespace = plugins.Metadata.Name().Elem()

	if err := p.networkPolicies(ctx, args, core, plugins); err != nil {
		return nil, err
	}
	if err := p.deployStores(ctx, args, core); err != nil {
		return nil, err
	}
	if err := p.deployBackups(ctx, args, core, plugins); err != nil {
		return nil, err
	}
	deploy := map[string]func() error{
		catalog.DBUsers:             func() error { return p.dbUsers(ctx, args) },
		backup.Upgrade:              func() error { return p.deployUpgrade(ctx, args, core, plugins) },
		catalog.FrontendComponent:   func() error { return p.deployFrontend(ctx, args, core) },
		backup.Restore:              func() error { return p.deployRestore(ctx, args, core, plugins) },
		catalog.WorkloadInitializer: func() error { return p.deployInitializer(ctx, args, core, plugins) },
		catalog.WorkloadSupervisor:  func() error { return p.deploySupervisor(ctx, args, plugins) },
	}
	p.Services = map[string]*microservice.Microservice{}
	for _, sp := range args.Plan.Services {
		deploy[sp.Name] = func() error { return p.deployService(ctx, args, core, sp) }
	}
	for _, c := range order.Components {
		step, ok := deploy[c.Name]
		if !ok {
			return nil, fmt.Errorf("start order: the platform deploys no component %q (workloads %v)", c.Name, c.Workloads)
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := p.devAccess(args); err != nil {
		return nil, err
	}
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"namespace":       p.Namespace,
		"pluginNamespace": p.PluginNamespace,
	})
}

func namespace(ctx *pulumi.Context, parent pulumi.Resource, name, role string, after []pulumi.Resource) (*corev1.Namespace, error) {
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{
			Name: pulumi.String(name),
			Labels: pulumi.StringMap{
				kube.PartOfLabel:               pulumi.String(kube.PartOf),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
				"spaceone.dev/namespace-role":  pulumi.String(role),
			},
		}),
	}, pulumi.Parent(parent), pulumi.DependsOn(after))
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return ns, nil
}

func (p *Platform) deployStores(ctx *pulumi.Context, args *Args, core *corev1.Namespace) error {
	s := args.Settings
	// The cluster settles the class: the user's, its own (gp3 on EKS), or a Retain twin.
	storageClass := args.Cluster.Capabilities().StorageClass
	common := func(store, size string) stores.Common {
		c := stores.Common{
			Namespace: core.Metadata.Name().Elem(), Registry: s.Images.Registry,
			PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
			StorageClass: storageClass, Size: size, KeepVolumes: *s.Stores.KeepVolumes,
		}
		if a, ok := s.LocalServices[store]; ok {
			c.Local = &stores.Endpoint{Host: a.Host, Port: a.Port}
		}
		if s.Dev.Expose == "nodePort" {
			c.NodePort = stores.DevPorts[store].NodePort
		}
		return c
	}
	inNS := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{core})}

	mongo := &stores.MongoDBArgs{Common: common("mongodb", s.Stores.MongoDB.Size), Users: dbUsers(args.Plan), CredentialSeed: s.CredentialSeed,
		PasswordRotation: s.Stores.MongoDB.RotateUserPasswords}
	if ext := s.Stores.MongoDB.External; ext != nil {
		mongo.External = &stores.ExternalMongoDB{Host: ext.Host, Port: ext.Port, Username: ext.Username, Password: s.Stores.MongoDB.Password}
	}
	var err error
	if p.MongoDB, err = stores.NewMongoDB(ctx, "mongodb", mongo, inNS...); err != nil {
		return fmt.Errorf("mongodb: %w", err)
	}
	redis := &stores.RedisArgs{Common: common("redis", s.Stores.Redis.Size)}
	if ext := s.Stores.Redis.External; ext != nil {
		redis.External = &stores.Endpoint{Host: ext.Host, Port: ext.Port}
	}
	if p.Redis, err = stores.NewRedis(ctx, "redis", redis, inNS...); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	ready := map[string][]pulumi.Resource{"mongodb": p.MongoDB.Ready, "redis": p.Redis.Ready}
	if args.Plan.Release.UsesStore("consul") {
		consul := &stores.ConsulArgs{Common: common("consul", s.Stores.Consul.Size)}
		if ext := s.Stores.Consul.External; ext != nil {
			consul.External = &stores.Endpoint{Host: ext.Host, Port: ext.Port}
		}
		if p.Consul, err = stores.NewConsul(ctx, "consul", consul, inNS...); err != nil {
			return fmt.Errorf("consul: %w", err)
		}
		ready["consul"] = p.Consul.Ready
	}
	for _, name := range s.InClusterStores() {
		repo, tag, _ := strings.Cut(stores.Images()[name], ":")
		p.Images[name] = kube.Image(repo, tag, s.Images.Registry)
		p.started.add(name, ready[name]...)
	}
	return nil
}

// dbUsers runs the Job that sets the services' MongoDB users, in the image of the data Jobs
// (catalogue dataJobs: python3 and pymongo, pulled anyway for that service).
func (p *Platform) dbUsers(ctx *pulumi.Context, args *Args) error {
	waits, err := p.started.waits(catalog.DBUsers)
	if err != nil {
		return err
	}
	image := args.Plan.DataJobImage()
	job, err := p.MongoDB.UsersJob(ctx, catalog.DBUsers, image, waits)
	if err != nil {
		return fmt.Errorf("mongodb users: %w", err)
	}
	p.Images[catalog.DBUsers] = image
	p.started.add(catalog.DBUsers, job)
	return nil
}
