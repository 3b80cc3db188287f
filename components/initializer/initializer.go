// Package initializer runs `spacectl apply` once the gRPC services are up: it creates the
// root domain and its owner (the console login), an API user with a system role and an API
// key, and hands that key to the token consumers the release's way: into Consul
// (root/api_key/TOKEN), or into the key's Kubernetes Secrets (package apikey). No one copies
// a token out of a pod log.
package initializer

import (
	_ "embed"
	"fmt"
	"strconv"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
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
	token := pulumi.String("").ToStringOutput()
	if args.HasMarketplaceToken {
		token = args.MarketplaceToken
	}
	varsYAML := pulumi.ToSecret(pulumi.All(args.AdminPassword, token).ApplyT(func(v []any) (string, error) {
		return vars(args, v[0].(string), v[1].(string))
	})).(pulumi.StringOutput)
	sec, err := corev1.NewSecret(ctx, name+"-vars", &corev1.SecretArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}), Immutable: pulumi.Bool(true),
		Type: pulumi.String("Opaque"), Data: kube.SecretData(map[string]pulumi.StringOutput{VarsFile: varsYAML}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating initializer secret: %w", err)
	}
	// Only with the key in Secrets does the pod talk to the Kubernetes API, as the one
	// ServiceAccount that may write them.
	var serviceAccount pulumi.StringPtrInput
	automount := false
	if args.KeyHandoff == catalog.HandoffSecret {
		serviceAccount, automount = args.ServiceAccount.ToStringOutput().ToStringPtrOutput(), true
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
						Command:         pulumi.ToStringArray([]string{"python3", filesDir + "/initialize.py", filesDir + "/" + ManifestFile}),
						// spacectl's error, as initialize.py prints it last, becomes the pod's
						// termination message, which `pulumi up` shows when the Job fails.
						TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("files"), MountPath: pulumi.String(filesDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("main"), MountPath: pulumi.String(secretDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("home"), MountPath: pulumi.String(spacectlHome)},
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

// initializePy wraps `spacectl apply`: it picks the mode (first install, again on an
// initialised platform, rotate, rekey), runs that mode's task file, hides what spacectl would
// print of secrets, hands the key over, and exits non-zero unless every task of the mode
// succeeded (spacectl exits 0 on some of its own errors). It reads the manifest alone.
//
//go:embed initialize.py
var initializePy string
