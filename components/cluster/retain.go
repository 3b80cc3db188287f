package cluster

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// Retention keeps volumes across `destroy` on a cluster that outlives the stack, and hands
// them back to the claims of the next `up`: the backup volume's always, the stores' with
// stores.keepVolumes.
type Retention struct {
	Volumes volumes.Cluster // the API server, read directly (Kubernetes has no list invoke)
	Claims  []volumes.Claim // the claims whose volumes are kept
	// KeepStores puts the stores' volumes in the retaining class too (stores.keepVolumes).
	KeepStores bool
}

// retentionClass reads the class the stores' volumes come from: storageClass, or the
// cluster's default. It runs before anything is registered, so a cluster that cannot keep
// volumes is refused before any resource is touched.
func retentionClass(storageClass string, r *Retention) (*volumes.Class, error) {
	class, err := r.Volumes.StorageClass(storageClass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.setting(), err)
	}
	if class == nil {
		return nil, fmt.Errorf("%s: the cluster has no default StorageClass; set spaceone:stores.storageClass to one of its classes", r.setting())
	}
	return class, nil
}

// setting is what the kept volumes are there for, as the user would look it up.
func (r *Retention) setting() string {
	if r.KeepStores {
		return "spaceone:stores.keepVolumes"
	}
	return "spaceone:backup (its volume outlives destroy)"
}

// retain settles the stores' StorageClass and reserves the volumes a destroyed stack kept.
// A class that deletes released volumes gets a Retain twin ("<class>-retain", same
// provisioner and parameters), so the data outlives the claims the namespace takes with it.
func (l *Local) retain(ctx *pulumi.Context, class *volumes.Class, r *Retention) error {
	keeping := class.Name
	if class.ReclaimPolicy != "Retain" {
		twin, err := storagev1.NewStorageClass(ctx, "retain", &storagev1.StorageClassArgs{
			Metadata: kube.Managed(&metav1.ObjectMetaArgs{
				Name:   pulumi.String(class.Name + "-retain"),
				Labels: pulumi.StringMap{kube.PartOfLabel: pulumi.String(kube.PartOf)},
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
		keeping = class.Name + "-retain"
		l.caps.Ready = append(l.caps.Ready, twin)
	}
	l.caps.RetainClass = keeping
	if r.KeepStores {
		l.caps.StorageClass = keeping
	}
	kept, err := r.Volumes.Kept(keeping, r.Claims)
	if err != nil {
		return fmt.Errorf("%s: looking for kept volumes: %w", r.setting(), err)
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
