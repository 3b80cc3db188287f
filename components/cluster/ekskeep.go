//go:build !noeks

package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// Tags on the EBS volumes of a stack that keeps them. The gp3 class stamps stackTag on every
// volume it provisions; the EBS CSI driver adds the claim's namespace and name (the EKS
// add-on runs its provisioner with --extra-create-metadata).
const (
	stackTag      = "spaceone.dev/stack"
	reattachedTag = "spaceone.dev/reattached" // set while a volume serves a claim of a later cluster
	claimNameTag  = "kubernetes.io/created-for/pvc/name"
	claimNSTag    = "kubernetes.io/created-for/pvc/namespace"
)

// stackID names the stack on its volumes: project and stack, as a later `up` of it sees them.
func stackID(ctx *pulumi.Context) string { return ctx.Project() + "." + ctx.Stack() }

// keptVolume is an EBS volume a destroyed cluster of this stack left for claim.
type keptVolume struct {
	claim          volumes.Claim
	id, zone       string
	sizeGi         int
	alreadyRetaken bool
}

// findKept asks EC2, for each claim, for the volume to give back: the one a previous `up`
// already gave back (still serving, tagged reattached), or else the newest unattached one.
// A claim whose volume was provisioned by this cluster finds neither: it is in use and
// not tagged.
func findKept(ctx *pulumi.Context, claims []volumes.Claim, opts ...pulumi.InvokeOption) ([]keptVolume, error) {
	var kept []keptVolume
	for _, c := range claims {
		base := []ebs.GetEbsVolumesFilter{
			{Name: "tag:" + stackTag, Values: []string{stackID(ctx)}},
			{Name: "tag:" + claimNSTag, Values: []string{c.Namespace}},
			{Name: "tag:" + claimNameTag, Values: []string{c.Name}},
		}
		for i, extra := range []ebs.GetEbsVolumesFilter{
			{Name: "tag:" + reattachedTag, Values: []string{"true"}},
			{Name: "status", Values: []string{"available"}},
		} {
			filters := append(append([]ebs.GetEbsVolumesFilter{}, base...), extra)
			found, err := ebs.GetEbsVolumes(ctx, &ebs.GetEbsVolumesArgs{Filters: filters}, opts...)
			if err != nil {
				return nil, fmt.Errorf("looking for kept volumes of %s: %w", c, err)
			}
			if len(found.Ids) == 0 {
				continue
			}
			var vf []ebs.GetVolumeFilter
			for _, f := range filters {
				vf = append(vf, ebs.GetVolumeFilter{Name: f.Name, Values: f.Values})
			}
			newest, err := ebs.LookupVolume(ctx, &ebs.LookupVolumeArgs{Filters: vf, MostRecent: pulumi.BoolRef(true)}, opts...)
			if err != nil {
				return nil, fmt.Errorf("reading kept volume of %s: %w", c, err)
			}
			kept = append(kept, keptVolume{claim: c, id: newest.VolumeId, zone: newest.AvailabilityZone, sizeGi: newest.Size, alreadyRetaken: i == 0})
			break
		}
	}
	return kept, nil
}

// giveBack registers, for a kept volume, a PersistentVolume reserved for its claim (the
// StatefulSet's new claim binds to it) and the tag that marks the volume as taken back.
// Destroy deletes both; the volume itself stays (the PersistentVolume retains it).
func giveBack(ctx *pulumi.Context, name, storageClass string, k keptVolume, after pulumi.Resource,
	inAWS, inK8s []pulumi.ResourceOption) (*corev1.PersistentVolume, error) {
	pv, err := corev1.NewPersistentVolume(ctx, name+"-kept-"+k.claim.Name, &corev1.PersistentVolumeArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{
			Name:   pulumi.String("spaceone-kept-" + k.id),
			Labels: pulumi.StringMap{kube.PartOfLabel: pulumi.String(kube.PartOf)},
		}),
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity:                      pulumi.StringMap{"storage": pulumi.Sprintf("%dGi", k.sizeGi)},
			AccessModes:                   pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			PersistentVolumeReclaimPolicy: pulumi.String("Retain"),
			StorageClassName:              pulumi.String(storageClass),
			ClaimRef:                      &corev1.ObjectReferenceArgs{Namespace: pulumi.String(k.claim.Namespace), Name: pulumi.String(k.claim.Name)},
			Csi: &corev1.CSIPersistentVolumeSourceArgs{
				Driver: pulumi.String("ebs.csi.aws.com"), VolumeHandle: pulumi.String(k.id), FsType: pulumi.String("ext4"),
			},
			// An EBS volume attaches only to nodes in its own zone.
			NodeAffinity: &corev1.VolumeNodeAffinityArgs{Required: &corev1.NodeSelectorArgs{
				NodeSelectorTerms: corev1.NodeSelectorTermArray{corev1.NodeSelectorTermArgs{
					MatchExpressions: corev1.NodeSelectorRequirementArray{corev1.NodeSelectorRequirementArgs{
						Key: pulumi.String("topology.kubernetes.io/zone"), Operator: pulumi.String("In"),
						Values: pulumi.StringArray{pulumi.String(k.zone)},
					}},
				}},
			}},
		},
	}, append(inK8s, pulumi.DependsOn([]pulumi.Resource{after}))...)
	if err != nil {
		return nil, fmt.Errorf("giving volume %s back to %s: %w", k.id, k.claim, err)
	}
	if _, err := ec2.NewTag(ctx, name+"-kept-"+k.claim.Name, &ec2.TagArgs{
		ResourceId: pulumi.String(k.id), Key: pulumi.String(reattachedTag), Value: pulumi.String("true"),
	}, inAWS...); err != nil {
		return nil, fmt.Errorf("tagging volume %s: %w", k.id, err)
	}
	if !k.alreadyRetaken {
		_ = ctx.Log.Info(fmt.Sprintf("EBS volume %s (kept by an earlier destroy) is given back to %s", k.id, k.claim), nil)
	}
	return pv, nil
}
