// Package apikey hands SpaceONE's root API key from the initializer to the token consumers
// when the release has no Consul (catalogue apiKey.handoff: secret). Upstream's 1.11+ charts
// leave that step to the operator (copy the key out of the initializer's log, helm upgrade,
// delete the pods); here the program creates one empty Secret per namespace with a consumer,
// the initializer writes the key into them, and the consumers, which start after it, import
// the key as a config file.
//
// Least privilege: the initializer's ServiceAccount may get and patch those Secrets, by name,
// and nothing else. It cannot create them (create cannot be limited to a name in RBAC),
// which is why the program makes them.
package apikey

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

const (
	// SecretName is the Secret that holds the key, in every namespace with a consumer.
	SecretName = "spaceone-api-key"
	// FileName is its one entry: a config file python-core imports (REMOTE_URL), `TOKEN: <key>`.
	FileName = "token.yaml"
	// ServiceAccount is the initializer's: the only one that may write the Secrets.
	ServiceAccount = "spaceone-initializer"
)

// Verbs is everything the initializer may do, and only to SecretName: read the key (to keep
// a working one on a re-run) and write it.
var Verbs = []string{"get", "patch"}

// Args configures the hand-off.
type Args struct {
	// Namespace is where the initializer runs (its ServiceAccount lives there).
	Namespace pulumi.StringInput
	// Consumers are the namespaces where token consumers run (each gets a Secret).
	Consumers []Namespace
	Labels    pulumi.StringMap
	// Repair, when set, marks the up that found the key gone: each Secret is made anew.
	Repair string
}

// RepairAnnotation is on the key's Secrets after an up repaired a lost key.
const RepairAnnotation = "spaceone.dev/api-key-repaired"

// Namespace is a namespace by resource (for its Output name) and by its name (for resource names).
type Namespace struct {
	Name string
	NS   pulumi.StringInput
}

// Handoff is the Secrets, the initializer's ServiceAccount and its permissions.
type Handoff struct {
	pulumi.ResourceState
	ServiceAccount pulumi.StringOutput
	Secrets        []string // namespace/name of each Secret, for the initializer
	// Ready is what the initializer must wait for: it writes through these.
	Ready []pulumi.Resource
}

// New creates the hand-off.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Handoff, error) {
	h := &Handoff{}
	if err := ctx.RegisterComponentResource("spaceone:apikey:Handoff", name, h, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(h)
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata:                     kube.Meta(ServiceAccount, args.Namespace, args.Labels),
		AutomountServiceAccountToken: pulumi.Bool(false), // only the initializer's pod mounts it
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the initializer's service account: %w", err)
	}
	h.ServiceAccount = sa.Metadata.Name().Elem()
	h.Ready = append(h.Ready, sa)
	for _, ns := range args.Consumers {
		res := name + "-" + ns.Name
		meta := kube.Meta(SecretName, ns.NS, args.Labels)
		if args.Repair != "" {
			meta.Annotations.(pulumi.StringMap)[RepairAnnotation] = pulumi.String(args.Repair)
		}
		sec, err := corev1.NewSecret(ctx, res, &corev1.SecretArgs{
			Metadata: meta,
			Type:     pulumi.String("Opaque"),
		}, parent,
			// The initializer writes the data: an update must neither see nor undo it.
			pulumi.IgnoreChanges([]string{"data", "stringData"}),
			// A repair (a new RepairAnnotation) makes the Secret anew: it may be gone from the
			// cluster, and an update of an object that is gone fails.
			pulumi.ReplaceOnChanges([]string{"metadata.annotations"}), pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return nil, fmt.Errorf("creating the API key secret in %s: %w", ns.Name, err)
		}
		role, err := rbacv1.NewRole(ctx, res, &rbacv1.RoleArgs{
			Metadata: kube.Meta(SecretName+"-writer", ns.NS, args.Labels),
			Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
				ApiGroups:     pulumi.StringArray{pulumi.String("")},
				Resources:     pulumi.StringArray{pulumi.String("secrets")},
				ResourceNames: pulumi.StringArray{pulumi.String(SecretName)},
				Verbs:         pulumi.ToStringArray(Verbs),
			}},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating the API key writer role in %s: %w", ns.Name, err)
		}
		binding, err := kube.BindRole(ctx, res, kube.Meta(SecretName+"-writer", ns.NS, args.Labels), role,
			sa.Metadata.Name().Elem(), args.Namespace, parent)
		if err != nil {
			return nil, fmt.Errorf("creating the API key writer binding in %s: %w", ns.Name, err)
		}
		h.Secrets = append(h.Secrets, ns.Name+"/"+SecretName)
		h.Ready = append(h.Ready, sec, role, binding)
	}
	return h, ctx.RegisterResourceOutputs(h, pulumi.Map{"serviceAccount": h.ServiceAccount})
}

// Volume is a consumer pod's volume of the key. The pod does not start before the key is in
// the Secret: kubelet cannot mount an item the Secret lacks, and retries.
func Volume() corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String("api-key"), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName: pulumi.String(SecretName),
		Items:      corev1.KeyToPathArray{corev1.KeyToPathArgs{Key: pulumi.String(FileName), Path: pulumi.String(FileName)}},
	}}
}

// Mount puts the key file into a consumer's config directory.
func Mount(dir string) corev1.VolumeMountArgs {
	return corev1.VolumeMountArgs{Name: pulumi.String("api-key"), MountPath: pulumi.String(File(dir)),
		SubPath: pulumi.String(FileName), ReadOnly: pulumi.Bool(true)}
}

// File is where a consumer with its config in dir reads the key.
func File(dir string) string { return dir + "/" + FileName }

// RotationAnnotation is on the pods of every process that reads the API key when it
// starts: its value is spaceone:initializer.rotateApiKey, so a rotation restarts them (after
// the initializer, which they wait for) and they read the new key.
const RotationAnnotation = "spaceone.dev/api-key-rotation"

// RotationAnnotations are the pod annotations of a key consumer ("" = none).
func RotationAnnotations(value string) map[string]string {
	if value == "" {
		return nil
	}
	return map[string]string{RotationAnnotation: value}
}
