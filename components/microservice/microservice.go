// Package microservice is the component of one SpaceONE backend service: per enabled variant
// a Deployment with its own config (ConfigMap), the database credentials (Secret), and for
// the gRPC variant the Service every other config names.
package microservice

import (
	"fmt"
	"slices"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// Args configures one service.
type Args struct {
	Service     *catalog.Service
	Namespace   pulumi.StringInput
	Image       string // full reference, registry override applied
	Variants    []string
	Replicas    map[string]int // per variant; missing = catalogue value or 1
	Resources   catalog.Resources
	PullPolicy  string
	PullSecrets []string
	// Configs holds config.yaml per variant (no secrets: RenderConfig keeps them out).
	Configs map[string]string
	// Database is database.yaml (a secret), or nil-valued when the service has no database.
	Database pulumi.StringOutput
	HasDB    bool
	// WaitFor are, per variant, the resources its Deployment must wait for (the platform's
	// start order; most variants wait for nothing).
	WaitFor map[string]kube.Waits
	// NodePort, when set, also exposes the gRPC Service on this port of every node
	// (spaceone:dev.expose nodePort), for a laptop to reach.
	NodePort int
	// Local, when set, runs the service outside the cluster (a developer's laptop): no pods,
	// and its Service sends traffic to Local.Host:Local.Port.
	Local *Endpoint
	// TokenReady is the release's readiness probe for the variants that read the key at start.
	TokenReady catalog.TokenReady
	// KeyHandoff is how the token consumers get the API key (catalog.HandoffSecret: they
	// mount the key's Secret).
	KeyHandoff string
	// KeyRotation is spaceone:initializer.rotateApiKey: on the pods of the variants that read
	// the key at start, so a rotation restarts them.
	KeyRotation string
}

// Microservice is a deployed SpaceONE backend service.
type Microservice struct {
	pulumi.ResourceState

	Name        string
	Service     *corev1.Service // the gRPC Service, named after the service
	Deployments map[string]*appsv1.Deployment
	image       string
}

// New deploys a service.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Microservice, error) {
	m := &Microservice{Name: name, Deployments: map[string]*appsv1.Deployment{}, image: args.Image}
	if err := ctx.RegisterComponentResource("spaceone:services:Microservice", name, m, opts...); err != nil {
		return nil, err
	}
	svc := args.Service
	parent := pulumi.Parent(m)
	if l := args.Local; l != nil {
		s, err := kube.ExternalService(ctx, name, args.Namespace, kube.Labels(name, "grpc", svc.Tag),
			"grpc", catalog.GRPCPort, l.Host, l.Port, parent)
		if err != nil {
			return nil, err
		}
		m.Service = s
		return m, m.done(ctx)
	}
	var dbSecret *corev1.Secret
	if args.HasDB {
		var err error
		// Auto-named: a new name on change rolls this service's pods and no other's.
		dbSecret, err = corev1.NewSecret(ctx, name+"-database", &corev1.SecretArgs{
			Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: kube.Labels(name, "config", svc.Tag)}),
			Type:      pulumi.String("Opaque"),
			Immutable: pulumi.Bool(true),
			Data:      kube.SecretData(map[string]pulumi.StringOutput{"database.yaml": args.Database}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating %s database secret: %w", name, err)
		}
	}
	for _, variant := range args.Variants {
		d, err := m.deployVariant(ctx, args, variant, dbSecret)
		if err != nil {
			return nil, err
		}
		m.Deployments[variant] = d
	}
	// The Service waits for nothing even when the gRPC Deployment waits (a token consumer's
	// waits for the initializer): every other config names it, and a Service without
	// ready endpoints is harmless (skipAwait), while one created late would leave callers
	// that start earlier without a name to resolve.
	if slices.Contains(args.Variants, "grpc") {
		port := corev1.ServicePortArgs{
			Name: pulumi.String("grpc"), Port: pulumi.Int(catalog.GRPCPort), TargetPort: pulumi.String("grpc"),
			AppProtocol: pulumi.String("grpc"),
		}
		s, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
			Metadata: kube.ServiceMeta(name, args.Namespace, kube.Labels(name, "grpc", svc.Tag)),
			Spec:     kube.ServiceSpec(name, port, args.NodePort),
		}, append([]pulumi.ResourceOption{parent}, kube.ServiceOptions()...)...)
		if err != nil {
			return nil, fmt.Errorf("creating service %s: %w", name, err)
		}
		m.Service = s
	}
	return m, m.done(ctx)
}

// done completes the component with its outputs.
func (m *Microservice) done(ctx *pulumi.Context) error {
	return ctx.RegisterResourceOutputs(m, pulumi.Map{"image": pulumi.String(m.image)})
}

func (m *Microservice) deployVariant(ctx *pulumi.Context, args *Args, variant string, dbSecret *corev1.Secret) (*appsv1.Deployment, error) {
	svc := args.Service
	wl := catalog.WorkloadName(m.Name, variant)
	labels := kube.Labels(wl, variant, svc.Tag)
	parent := pulumi.Parent(m)
	cfg, err := corev1.NewConfigMap(ctx, wl+"-config", &corev1.ConfigMapArgs{
		Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}),
		Immutable: pulumi.Bool(true),
		Data:      pulumi.StringMap{"config.yaml": pulumi.String(args.Configs[variant])},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating %s config: %w", wl, err)
	}
	dir := ConfigDir(m.Name)
	volumes, mounts := kube.ConfigAndLogs(cfg.Metadata.Name().Elem(), dir)
	deps := []pulumi.Resource{cfg}
	if spec := svc.Variants[variant]; spec != nil && spec.Token && args.KeyHandoff == catalog.HandoffSecret {
		volumes = append(volumes, apikey.Volume())
		mounts = append(mounts, apikey.Mount(dir))
	}
	if dbSecret != nil {
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("database"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: dbSecret.Metadata.Name().Elem()}})
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("database"), MountPath: pulumi.String(dir + "/database.yaml"), SubPath: pulumi.String("database.yaml"), ReadOnly: pulumi.Bool(true)})
		deps = append(deps, dbSecret)
	}
	replicas := 1
	if spec := svc.Variants[variant]; spec != nil && spec.Replicas > 0 {
		replicas = spec.Replicas
	}
	if n, ok := args.Replicas[variant]; ok {
		replicas = n
	}
	r := args.Resources
	container := corev1.ContainerArgs{
		Name:            pulumi.String(wl),
		Image:           pulumi.String(args.Image),
		ImagePullPolicy: pulumi.String(args.PullPolicy),
		Command:         pulumi.ToStringArray(svc.Command(variant)),
		Env: corev1.EnvVarArray{corev1.EnvVarArgs{
			Name: pulumi.String("SPACEONE_CONFIG_FILE"), Value: pulumi.String(dir + "/config.yaml"),
		}},
		VolumeMounts:    mounts,
		Resources:       kube.Resources(r.CPURequest, r.MemoryRequest, r.CPULimit, r.MemoryLimit),
		SecurityContext: kube.RestrictedContainer(),
	}
	if variant == "grpc" {
		container.Ports = corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("grpc"), ContainerPort: pulumi.Int(catalog.GRPCPort)}}
		// python-core serves grpc.health.v1 on every gRPC server: native Kubernetes gRPC probes.
		grpcProbe := func(period, failures int) *corev1.ProbeArgs {
			return &corev1.ProbeArgs{
				Grpc:             &corev1.GRPCActionArgs{Port: pulumi.Int(catalog.GRPCPort)},
				PeriodSeconds:    pulumi.Int(period),
				TimeoutSeconds:   pulumi.Int(5),
				FailureThreshold: pulumi.Int(failures),
			}
		}
		container.StartupProbe = grpcProbe(5, 60) // python services take a while to start
		container.ReadinessProbe = grpcProbe(10, 3)
		container.LivenessProbe = grpcProbe(20, 3)
	}
	if args.TokenReady.Gates(variant, svc.Variants[variant]) {
		container.ReadinessProbe = kube.ExecProbe(5, args.TokenReady.Command...)
	}
	var annotations map[string]string
	if args.TokenReady.ReadsAtStart(variant, svc.Variants[variant]) {
		annotations = apikey.RotationAnnotations(args.KeyRotation)
	}
	d, err := kube.Deployment(ctx, kube.Workload{
		Name: wl, Namespace: args.Namespace, Labels: labels, Replicas: replicas, PullSecrets: args.PullSecrets,
		Volumes: volumes, Container: container, Waits: args.WaitFor[variant], PodAnnotations: annotations,
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}
	return d, nil
}
