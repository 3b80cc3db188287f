// Package stores runs SpaceONE's state in the cluster — MongoDB, Redis and Consul — each as
// a single-replica StatefulSet with its data on a PersistentVolumeClaim, so data survives pod
// restarts. A store configured as external is not deployed; its Endpoint points outside.
package stores

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// Endpoint is where clients reach a store.
type Endpoint struct {
	Host string // Service name (same namespace) or external host
	Port int
}

// Common are the settings every in-cluster store shares.
type Common struct {
	Namespace    pulumi.StringInput
	Registry     string // image registry override ("" = upstream)
	PullPolicy   string
	PullSecrets  []string
	StorageClass string // "" = cluster default
	Size         string
	// KeepVolumes keeps the claim when the StatefulSet is deleted; otherwise destroy deletes
	// it, so `pulumi destroy` ends promptly instead of waiting on a bound volume.
	KeepVolumes bool
	// NodePort, when set, also exposes the store on this port of every node (dev.expose nodePort).
	NodePort int
	// Local routes the store's Service to a process outside the cluster (a developer's
	// laptop) instead of running it: configs keep their host and port.
	Local *Endpoint
}

// workload is what differs between the three stores: data, not code.
type workload struct {
	name       string // Service and StatefulSet name: the host every config uses
	repository string
	tag        string
	port       int
	portName   string
	uid, gid   int
	dataPath   string
	args       []string
	env        corev1.EnvVarArray
	volumes    corev1.VolumeArray
	mounts     corev1.VolumeMountArray
	resources  *corev1.ResourceRequirementsArgs
	// readiness replaces the TCP probe when the port alone does not prove readiness.
	readiness *corev1.ProbeArgs
	deps      []pulumi.Resource // objects the pods mount or read
}

// deploy registers a store's Service and StatefulSet under parent. It returns what a client
// must wait for: the Service, and the StatefulSet unless the store runs outside (c.Local).
func deploy(ctx *pulumi.Context, parent pulumi.Resource, c Common, w workload) ([]pulumi.Resource, error) {
	labels := kube.Labels(w.name, "store", w.tag)
	opt := pulumi.Parent(parent)
	if l := c.Local; l != nil {
		svc, err := kube.ExternalService(ctx, w.name, c.Namespace, labels, w.portName, w.port, l.Host, l.Port, opt)
		if err != nil {
			return nil, err
		}
		return []pulumi.Resource{svc}, nil
	}
	if c.Size == "" { // the default sizes live in settings.Load, which gives every store one
		return nil, fmt.Errorf("store %s: no volume size", w.name)
	}
	port := corev1.ServicePortArgs{Name: pulumi.String(w.portName), Port: pulumi.Int(w.port), TargetPort: pulumi.Int(w.port)}
	svc, err := corev1.NewService(ctx, w.name, &corev1.ServiceArgs{
		Metadata: kube.ServiceMeta(w.name, c.Namespace, labels),
		Spec:     kube.ServiceSpec(w.name, port, c.NodePort),
	}, append([]pulumi.ResourceOption{opt}, kube.ServiceOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("creating service %s: %w", w.name, err)
	}
	// The StatefulSet's governing Service: headless, giving the pod a stable DNS name.
	headless, err := corev1.NewService(ctx, w.name+"-headless", &corev1.ServiceArgs{
		Metadata: kube.ServiceMeta(w.name+"-headless", c.Namespace, labels),
		Spec: &corev1.ServiceSpecArgs{
			ClusterIP: pulumi.String("None"), PublishNotReadyAddresses: pulumi.Bool(true),
			Selector: kube.SelectorLabels(w.name),
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String(w.portName), Port: pulumi.Int(w.port), TargetPort: pulumi.Int(w.port)}},
		},
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("creating service %s-headless: %w", w.name, err)
	}
	tcp := &corev1.ProbeArgs{
		TcpSocket:        &corev1.TCPSocketActionArgs{Port: pulumi.Int(w.port)},
		PeriodSeconds:    pulumi.Int(10),
		FailureThreshold: pulumi.Int(6),
	}
	readiness := w.readiness
	if readiness == nil {
		readiness = tcp
	}
	retention := "Delete"
	if c.KeepVolumes {
		retention = "Retain"
	}
	pvcSpec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(c.Size)}},
	}
	if c.StorageClass != "" {
		pvcSpec.StorageClassName = pulumi.String(c.StorageClass)
	}
	mounts := append(corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(w.dataPath)}}, w.mounts...)
	sts, err := appsv1.NewStatefulSet(ctx, w.name, &appsv1.StatefulSetArgs{
		Metadata: kube.Meta(w.name, c.Namespace, labels),
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:    pulumi.Int(1),
			ServiceName: headless.Metadata.Name().Elem(),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: kube.SelectorLabels(w.name)},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String(retention), WhenScaled: pulumi.String("Retain"),
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					SecurityContext: &corev1.PodSecurityContextArgs{
						RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(w.uid), RunAsGroup: pulumi.Int(w.gid), FsGroup: pulumi.Int(w.gid),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					AutomountServiceAccountToken:  pulumi.Bool(false),
					TerminationGracePeriodSeconds: pulumi.Int(30),
					ImagePullSecrets:              kube.PullSecrets(c.PullSecrets),
					Volumes:                       w.volumes,
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String(w.name),
						Image:           pulumi.String(kube.Image(w.repository, w.tag, c.Registry)),
						ImagePullPolicy: pulumi.String(c.PullPolicy),
						Args:            pulumi.ToStringArray(w.args),
						Env:             w.env,
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
							Name: pulumi.String(w.portName), ContainerPort: pulumi.Int(w.port),
						}},
						ReadinessProbe:  readiness,
						LivenessProbe:   tcp,
						Resources:       w.resources,
						SecurityContext: kube.RestrictedContainer(),
						VolumeMounts:    mounts,
					}},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data"), Labels: kube.SelectorLabels(w.name)},
				Spec:     pvcSpec,
			}},
		},
	}, opt, pulumi.DependsOn(w.deps))
	if err != nil {
		return nil, fmt.Errorf("creating statefulset %s: %w", w.name, err)
	}
	return []pulumi.Resource{svc, sts}, nil
}

// Images are the stores' pinned images (before any registry override).
func Images() map[string]string {
	return map[string]string{
		"mongodb": mongoRepository + ":" + mongoTag,
		"redis":   redisRepository + ":" + redisTag,
		"consul":  consulRepository + ":" + consulTag,
	}
}

// DevPort is where a laptop reaches a store: `make dev-connect` forwards Port to localhost,
// and with dev.expose nodePort the Service also listens on NodePort.
type DevPort struct{ Port, NodePort int }

// DevPorts of the stores, stable across runs (and off the ports a laptop's own stores use).
var DevPorts = map[string]DevPort{
	"mongodb": {Port: 27018, NodePort: 30017},
	"redis":   {Port: 6380, NodePort: 30079},
	"consul":  {Port: 8501, NodePort: 30500},
}

func execProbe(command ...string) *corev1.ProbeArgs { return kube.ExecProbe(10, command...) }
