package cluster

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// Retention keeps the stores' volumes across `destroy` (stores.keepVolumes) on a cluster that
// outlives the stack, and hands them back to the claims of the next `up`.
type Retention struct {
	Volumes volumes.Cluster // the API server, read directly (Kubernetes has no list invoke)
	Claims  []volumes.Claim // the stores' claims
}

// retentionClass reads the class the stores' volumes come from: storageClass, or the
// cluster's default. It runs before anything is registered, so a cluster that cannot keep
// volumes is refused before any resource is touched.
func retentionClass(storageClass string, r *Retention) (*volumes.Class, error) {
	class, err := r.Volumes.StorageClass(storageClass)
	if err != nil {
		return nil, fmt.Errorf("spaceone:stores.keepVolumes: %w", err)
	}
	if class == nil {
		return nil, fmt.Errorf("spaceone:stores.keepVolumes: the cluster has no default StorageClass; set spaceone:stores.storageClass to one of its classes")
	}
	return class, nil
}

// retain settles the stores' StorageClass and reserves the volumes a destroyed stack kept.
// A class that deletes released volumes gets a Retain twin ("<class>-retain", same
// provisioner and parameters), so the data outlives the claims the namespace takes with it.
func (l *Local) retain(ctx *pulumi.Context, class *volumes.Class, r *Retention) error {
	l.caps.StorageClass = class.Name
	if class.ReclaimPolicy != "Retain" {
		twin, err := storagev1.NewStorageClass(ctx, "retain", &storagev1.StorageClassArgs{
			Metadata: kube.Managed(&metav1.ObjectMetaArgs{
				Name:   pulumi.String(class.Name + "-retain"),
				Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String(kube.PartOf)},
			}),
			Provisioner:          pulumi.String(class.Provisioner),
			Parameters:           pulumi.ToStringMap(class.Parameters),
			ReclaimPolicy:        pulumi.String("Retain"),
			VolumeBindingMode:    pulumi.String(class.VolumeBindingMode),
			AllowVolumeExpansion: pulumi.BoolPtrFromPtr(class.AllowVolumeExpansion),
			MountOptions:         pulumi.ToStringArray(class.MountOptions),
		}, pulumi.Parent(l), pulumi.Provider(l.provider))
		if err != nil {
			return fmt.Errorf("creating StorageClass %s-retain: %w", class.Name, err)
		}
		l.caps.StorageClass = class.Name + "-retain"
		l.caps.Ready = append(l.caps.Ready, twin)
	}
	kept, err := r.Volumes.Kept(l.caps.StorageClass, r.Claims)
	if err != nil {
		return fmt.Errorf("spaceone:stores.keepVolumes: looking for kept volumes: %w", err)
	}
	for _, k := range kept {
		if ctx.DryRun() {
			_ = ctx.Log.Info(fmt.Sprintf("volume %s (kept by an earlier destroy) will be given back to %s", k.Volume, k.Claim), nil)
			continue
		}
		if err := r.Volumes.Reserve(k); err != nil {
			return err
		}
		_ = ctx.Log.Info(fmt.Sprintf("volume %s (kept by an earlier destroy) is given back to %s", k.Volume, k.Claim), nil)
	}
	return nil
}
