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

// deploy registers a store's Service and StatefulSet under parent.
func deploy(ctx *pulumi.Context, parent pulumi.Resource, c Common, w workload) (*appsv1.StatefulSet, *corev1.Service, error) {
	labels := kube.Labels(w.name, "store", w.tag)
	opt := pulumi.Parent(parent)
	svc, err := corev1.NewService(ctx, w.name, &corev1.ServiceArgs{
		Metadata: kube.ServiceMeta(w.name, c.Namespace, labels),
		Spec: &corev1.ServiceSpecArgs{
			Selector: kube.SelectorLabels(w.name),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String(w.portName), Port: pulumi.Int(w.port), TargetPort: pulumi.Int(w.port),
			}},
		},
	}, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("creating service %s: %w", w.name, err)
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
			ServiceName: pulumi.String(w.name),
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
		return nil, nil, fmt.Errorf("creating statefulset %s: %w", w.name, err)
	}
	return sts, svc, nil
}

// Images are the stores' pinned images (before any registry override).
func Images() map[string]string {
	return map[string]string{
		"mongodb": mongoRepository + ":" + mongoTag,
		"redis":   redisRepository + ":" + redisTag,
		"consul":  consulRepository + ":" + consulTag,
	}
}
