// Package kube holds the small Kubernetes building blocks every SpaceONE component shares:
// labels, the restricted security context, resource requirements, and image references.
package kube

import (
	"encoding/base64"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PartOf is the PartOfLabel value of everything this program creates.
const PartOf = "spaceone"

// The recommended labels this program sets: a workload's name, and what it is part of.
const (
	NameLabel   = "app.kubernetes.io/name"
	PartOfLabel = "app.kubernetes.io/part-of"
)

// SelectorLabels identify the pods of one workload. They never change after creation
// (a Deployment's selector is immutable), so they hold only the workload name.
func SelectorLabels(workload string) pulumi.StringMap {
	return pulumi.StringMap{
		NameLabel:   pulumi.String(workload),
		PartOfLabel: pulumi.String(PartOf),
	}
}

// Labels are the recommended app.kubernetes.io labels of one workload's objects.
func Labels(workload, component, version string) pulumi.StringMap {
	l := SelectorLabels(workload)
	l["app.kubernetes.io/component"] = pulumi.String(component)
	l["app.kubernetes.io/managed-by"] = pulumi.String("pulumi")
	if version != "" {
		l["app.kubernetes.io/version"] = pulumi.String(version)
	}
	return l
}

// FieldManager is the server-side-apply field manager of every object this program manages.
// The provider otherwise picks a random one per create, so an `up` cut short after an object
// was sent (and before the state recorded it) would leave fields owned by a manager the next
// `up` is not, and conflict on them (atomic lists with server defaults, e.g. a StatefulSet's
// volumeClaimTemplates). One stable manager makes re-applying such an object a plain update.
const FieldManager = "spaceone-pulumi"

// Managed gives object metadata the stable field manager (see FieldManager). Every
// top-level object's metadata goes through it; a unit test checks that none is missed.
func Managed(m *metav1.ObjectMetaArgs) *metav1.ObjectMetaArgs {
	annotations := pulumi.StringMap{}
	if existing, ok := m.Annotations.(pulumi.StringMap); ok {
		for k, v := range existing {
			annotations[k] = v
		}
	}
	annotations["pulumi.com/patchFieldManager"] = pulumi.String(FieldManager)
	m.Annotations = annotations
	return m
}

// Meta is ObjectMeta with a fixed name (other configs refer to it) in a namespace.
func Meta(name string, namespace pulumi.StringInput, labels pulumi.StringMap) *metav1.ObjectMetaArgs {
	return Managed(&metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: namespace, Labels: labels})
}

// ServiceMeta is Meta for a ClusterIP or NodePort Service. Pulumi's Service await only
// watches endpoints appear, which the Deployment await behind them already proves; skipping it
// saves ~10 s per Service and keeps them from serialising a first install.
func ServiceMeta(name string, namespace pulumi.StringInput, labels pulumi.StringMap) *metav1.ObjectMetaArgs {
	m := Meta(name, namespace, labels)
	m.Annotations.(pulumi.StringMap)["pulumi.com/skipAwait"] = pulumi.String("true")
	return m
}

// ServiceSpec is the spec of a workload's Service on one port: ClusterIP, or NodePort on
// nodePort when it is set (spaceone:dev.expose nodePort).
func ServiceSpec(workload string, port corev1.ServicePortArgs, nodePort int) *corev1.ServiceSpecArgs {
	spec := &corev1.ServiceSpecArgs{Selector: SelectorLabels(workload), Type: pulumi.String("ClusterIP")}
	if nodePort != 0 {
		spec.Type = pulumi.String("NodePort")
		port.NodePort = pulumi.Int(nodePort)
	}
	spec.Ports = corev1.ServicePortArray{port}
	return spec
}

// ExecProbe runs command in the container every period seconds (5 s to answer, 3 misses).
func ExecProbe(period int, command ...string) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec:             &corev1.ExecActionArgs{Command: pulumi.ToStringArray(command)},
		PeriodSeconds:    pulumi.Int(period),
		TimeoutSeconds:   pulumi.Int(5),
		FailureThreshold: pulumi.Int(3),
	}
}

// RestrictedContainer is the container security context every workload gets: no privilege
// escalation, no added capabilities.
func RestrictedContainer() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
	}
}

// SecretData base64-encodes secret values for a Secret's data. Unlike stringData, data is
// never written back in clear text (rendered manifests, kubectl output).
func SecretData(values map[string]pulumi.StringOutput) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range values {
		out[k] = pulumi.ToSecret(v.ApplyT(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) })).(pulumi.StringOutput)
	}
	return out
}

// Resources builds requests and limits; empty values are left out. Every container also gets
// an ephemeral-storage request and limit: its logs and scratch files are bounded.
func Resources(cpuReq, memReq, cpuLim, memLim string) *corev1.ResourceRequirementsArgs {
	req := pulumi.StringMap{"ephemeral-storage": pulumi.String("64Mi")}
	lim := pulumi.StringMap{"ephemeral-storage": pulumi.String("2Gi")}
	if cpuReq != "" {
		req["cpu"] = pulumi.String(cpuReq)
	}
	if memReq != "" {
		req["memory"] = pulumi.String(memReq)
	}
	if cpuLim != "" {
		lim["cpu"] = pulumi.String(cpuLim)
	}
	if memLim != "" {
		lim["memory"] = pulumi.String(memLim)
	}
	return &corev1.ResourceRequirementsArgs{Requests: req, Limits: lim}
}

// Image joins repository and tag, moving the repository under registry when one is set:
// Image("spaceone/identity", "1.10.4", "registry.local:5000/mirror") is
// "registry.local:5000/mirror/identity:1.10.4".
func Image(repository, tag, registry string) string {
	if registry != "" {
		name := repository
		if i := strings.LastIndex(repository, "/"); i >= 0 {
			name = repository[i+1:]
		}
		repository = strings.TrimSuffix(registry, "/") + "/" + name
	}
	return repository + ":" + tag
}

// PullSecrets turns Secret names into imagePullSecrets references.
func PullSecrets(names []string) corev1.LocalObjectReferenceArray {
	var refs corev1.LocalObjectReferenceArray
	for _, n := range names {
		refs = append(refs, corev1.LocalObjectReferenceArgs{Name: pulumi.String(n)})
	}
	return refs
}

// WaitsForAnnotation names, on a workload that waits at a first install, the workloads it
// waits for (the platform's start order), so `kubectl get -o yaml` shows why it started
// later, and tools that apply the rendered manifests can keep the order.
const WaitsForAnnotation = "spaceone.dev/waits-for"

// Waits is what a workload waits for: the workloads by name, and their resources (which
// become the workload's dependencies).
type Waits struct {
	Names     []string
	Resources []pulumi.Resource
}

// Annotate records w on m (nothing when w names no workload).
func (w Waits) Annotate(m *metav1.ObjectMetaArgs) *metav1.ObjectMetaArgs {
	if len(w.Names) > 0 {
		m.Annotations.(pulumi.StringMap)[WaitsForAnnotation] = pulumi.String(strings.Join(w.Names, ","))
	}
	return m
}

// LogDir is where every SpaceONE process writes its log file: LogVolume, an emptyDir of the
// pod (the 1.10.4 token readiness probe, catalogue tokenReady, reads it there).
const (
	LogDir    = "/var/log/spaceone"
	LogVolume = "logs"
)

// ConfigAndLogs are the volumes and mounts every SpaceONE process has: its config.yaml from
// a ConfigMap in dir, and an emptyDir for the log file python-core writes.
func ConfigAndLogs(configMap pulumi.StringInput, dir string) (corev1.VolumeArray, corev1.VolumeMountArray) {
	return corev1.VolumeArray{
			corev1.VolumeArgs{Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: configMap}},
			corev1.VolumeArgs{Name: pulumi.String(LogVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}},
		}, corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String(dir + "/config.yaml"), SubPath: pulumi.String("config.yaml"), ReadOnly: pulumi.Bool(true)},
			corev1.VolumeMountArgs{Name: pulumi.String(LogVolume), MountPath: pulumi.String(LogDir)},
		}
}

// BindRole binds a Role to one ServiceAccount (of saNamespace), in the Role's namespace.
func BindRole(ctx *pulumi.Context, name string, meta *metav1.ObjectMetaArgs, role *rbacv1.Role, serviceAccount, saNamespace pulumi.StringInput, opts ...pulumi.ResourceOption) (*rbacv1.RoleBinding, error) {
	return rbacv1.NewRoleBinding(ctx, name, &rbacv1.RoleBindingArgs{
		Metadata: meta,
		RoleRef: &rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: serviceAccount, Namespace: saNamespace,
		}},
	}, opts...)
}
