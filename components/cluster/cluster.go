// Package cluster gives the platform a Kubernetes cluster: one explicit provider plus what the
// cluster can do. Implementations: Local (an existing kube context or kubeconfig file, e.g.
// minikube or the sim control plane) and a render-only mode that writes manifests to disk.
package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// Capabilities is what the platform may assume about the cluster.
type Capabilities struct {
	StorageClass  string // StorageClass for the stores' volumes ("" = cluster default)
	RetainClass   string // a class whose volumes outlive their claims, for the backup volume ("" = none known)
	IngressClass  string // IngressClass for console and console-api ("" = no ingress controller known)
	LoadBalancers bool   // LoadBalancer Services get an address
	Rendering     bool   // manifests are written to disk; nothing reads live state
	// Backups is the bucket an eks stack's backups go to (nil = none: a volume keeps them).
	Backups *BackupBucket
	// Ready are cluster add-ons the platform's objects must depend on, so they are deleted
	// before them (the CSI driver's StorageClass, the ingress controller).
	Ready []pulumi.Resource
}

// BackupBucket is an S3 bucket for the backups and the role (IRSA) the backup Jobs' service
// accounts assume to reach it.
type BackupBucket struct {
	Name    pulumi.StringOutput
	RoleArn pulumi.StringOutput
	Region  string
}

// Cluster is what every implementation hands to the platform.
type Cluster interface {
	pulumi.Resource
	Provider() *kubernetes.Provider
	Capabilities() Capabilities
}

// LocalArgs selects an existing cluster.
type LocalArgs struct {
	KubeContext  string // context in the default kubeconfig (e.g. minikube)
	Kubeconfig   string // path of a kubeconfig file; its current context is used unless KubeContext is set
	RenderDir    string // when set: no cluster, write YAML here instead
	StorageClass string // "" = the cluster's default class
	IngressClass string
	// Retention, when set, keeps volumes across destroy (not when rendering).
	Retention *Retention
}

// Local is an existing cluster reached through a kube context: minikube, the sim control
// plane, or any cluster a kubeconfig names.
type Local struct {
	pulumi.ResourceState
	provider *kubernetes.Provider
	caps     Capabilities
}

// NewLocal registers the provider for an existing cluster.
func NewLocal(ctx *pulumi.Context, name string, args *LocalArgs, opts ...pulumi.ResourceOption) (*Local, error) {
	l := &Local{caps: Capabilities{StorageClass: args.StorageClass, IngressClass: args.IngressClass}}
	var keepClass *volumes.Class
	if args.Retention != nil && args.RenderDir == "" {
		var err error
		if keepClass, err = retentionClass(args.StorageClass, args.Retention); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterComponentResource("spaceone:cluster:Local", name, l, opts...); err != nil {
		return nil, err
	}
	pa := &kubernetes.ProviderArgs{}
	switch {
	case args.RenderDir != "":
		// Render mode needs no cluster; the provider refuses a kubeconfig alongside it.
		pa.RenderYamlToDirectory = pulumi.String(args.RenderDir)
		l.caps.Rendering = true
	default:
		if args.Kubeconfig != "" {
			pa.Kubeconfig = pulumi.String(args.Kubeconfig)
		}
		if args.KubeContext != "" {
			pa.Context = pulumi.String(args.KubeContext)
		}
		// A local cluster that was deleted (minikube delete, sim down) must not make
		// `pulumi destroy` hang: its objects went with it.
		pa.DeleteUnreachable = pulumi.Bool(true)
	}
	p, err := kubernetes.NewProvider(ctx, name, pa, pulumi.Parent(l))
	if err != nil {
		return nil, fmt.Errorf("creating kubernetes provider %s: %w", name, err)
	}
	l.provider = p
	if keepClass != nil {
		if err := l.retain(ctx, keepClass, args.Retention); err != nil {
			return nil, err
		}
	}
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{})
}

// Provider is the explicit provider every Kubernetes resource must use.
func (l *Local) Provider() *kubernetes.Provider { return l.provider }

// Capabilities of a local cluster: no LoadBalancer addresses (minikube needs `minikube tunnel`).
func (l *Local) Capabilities() Capabilities { return l.caps }
