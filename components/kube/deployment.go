package kube

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Workload is what differs between the Deployments of SpaceONE's services, frontend and
// supervisor; Deployment supplies the rest.
type Workload struct {
	Name        string // Deployment name, resource name and the one selector label
	Namespace   pulumi.StringInput
	Labels      pulumi.StringMap
	Replicas    int
	PullSecrets []string
	Volumes     corev1.VolumeArray
	Container   corev1.ContainerArgs
	// ServiceAccount runs the pods as this account with its token mounted; empty for every
	// workload that does not call the Kubernetes API (all but the supervisor).
	ServiceAccount pulumi.StringInput
	// Waits is what the workload waits for at a first install (the platform's start order).
	Waits Waits
	// PodAnnotations go on the pod template: a changed value rolls the pods.
	PodAnnotations map[string]string
}

// Deployment registers w's Deployment: pods selected by workload name only (a selector cannot
// change later), three old ReplicaSets kept for `kubectl rollout undo`, no service-account
// token unless asked for, and 10 s to stop (the gRPC servers stop at once).
func Deployment(ctx *pulumi.Context, w Workload, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	pod := &corev1.PodSpecArgs{
		AutomountServiceAccountToken:  pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(10),
		ImagePullSecrets:              PullSecrets(w.PullSecrets),
		Volumes:                       w.Volumes,
		Containers:                    corev1.ContainerArray{w.Container},
	}
	if w.ServiceAccount != nil {
		pod.ServiceAccountName = w.ServiceAccount
		pod.AutomountServiceAccountToken = pulumi.Bool(true)
	}
	meta := Meta(w.Name, w.Namespace, w.Labels)
	// A restore or an upgrade scales Deployments to 0 (components/backup): the replicas this
	// program declares must win over that, where server-side apply would refuse a field
	// another manager set last.
	meta.Annotations.(pulumi.StringMap)["pulumi.com/patchForce"] = pulumi.String("true")
	d, err := appsv1.NewDeployment(ctx, w.Name, &appsv1.DeploymentArgs{
		Metadata: w.Waits.Annotate(meta),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas:             pulumi.Int(w.Replicas),
			RevisionHistoryLimit: pulumi.Int(3),
			Selector:             &metav1.LabelSelectorArgs{MatchLabels: SelectorLabels(w.Name)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: w.Labels, Annotations: podAnnotations(w.PodAnnotations)},
				Spec:     pod,
			},
		},
	}, append(opts, pulumi.DependsOn(w.Waits.Resources))...)
	if err != nil {
		return nil, fmt.Errorf("creating deployment %s: %w", w.Name, err)
	}
	return d, nil
}

func podAnnotations(a map[string]string) pulumi.StringMapInput {
	if len(a) == 0 {
		return nil
	}
	return pulumi.ToStringMap(a)
}
