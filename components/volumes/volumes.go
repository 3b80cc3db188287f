// Package volumes gives a stack back the data volumes it kept: with stores.keepVolumes a
// `destroy` leaves the stores' PersistentVolumes behind (Released: their claims went with the
// namespace), and the next `up` reserves each one for the claim of the same name, so the new
// StatefulSet's claim binds to the old data instead of to a fresh, empty volume.
//
// Kubernetes has no list function a Pulumi program can invoke, and freeing a volume from a
// claim that no longer exists is a one-time repair of the cluster, not a resource to keep in
// the state; so this package talks to the API server directly, through the same kubeconfig
// and context as the provider.
package volumes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Claim names a PersistentVolumeClaim.
type Claim struct{ Namespace, Name string }

func (c Claim) String() string { return c.Namespace + "/" + c.Name }

// StoreClaim is the claim a store's StatefulSet makes for its pod: template "data", pod 0.
func StoreClaim(namespace, store string) Claim {
	return Claim{Namespace: namespace, Name: "data-" + store + "-0"}
}

// Kept is a volume left for a claim that no longer exists.
type Kept struct {
	Volume string // PersistentVolume name
	Claim  Claim
	oldUID string // the deleted claim's uid; "" when already reserved
}

// Reserved says whether the volume already waits for a new claim of its claim's name.
func (k Kept) Reserved() bool { return k.oldUID == "" }

// Class is what a StorageClass says about the volumes it provisions.
type Class struct {
	Name                 string
	Provisioner          string
	Parameters           map[string]string
	ReclaimPolicy        string // Delete or Retain
	VolumeBindingMode    string
	AllowVolumeExpansion *bool
	MountOptions         []string
}

// Cluster is what keeping volumes needs from the API server.
type Cluster interface {
	// StorageClass reads a class by name, or the cluster's default class for "".
	StorageClass(name string) (*Class, error)
	// Kept lists, for each claim that does not exist, the newest volume of class that still
	// names it.
	Kept(class string, claims []Claim) ([]Kept, error)
	// Reserve frees a kept volume from its deleted claim: the volume becomes Available and
	// binds only to a new claim of the same namespace and name.
	Reserve(k Kept) error
}

// Kube is Cluster over client-go.
type Kube struct{ client kubernetes.Interface }

// NewKube connects with a kubeconfig file ("" = the default loading rules: $KUBECONFIG,
// ~/.kube/config) and a context ("" = its current context), as the provider does.
func NewKube(kubeconfig, kubeContext string) (*Kube, error) {
	client, err := Client(kubeconfig, kubeContext)
	if err != nil {
		return nil, err
	}
	return &Kube{client: client}, nil
}

// Client reaches the API server of the cluster a kubeconfig file (or the default one) and
// a context name (or its current one) select.
func Client(kubeconfig, kubeContext string) (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	return clientFor(clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig())
}

// ClientFromKubeconfig is a client for the cluster a kubeconfig's content names (its current
// context): an EKS stack's kubeconfig output, whose credentials come from `aws eks get-token`.
func ClientFromKubeconfig(kubeconfig []byte) (kubernetes.Interface, error) {
	return clientFor(clientcmd.RESTConfigFromKubeConfig(kubeconfig))
}

// clientFor is a client for the REST config clientcmd read (or its error, wrapped).
func clientFor(cfg *rest.Config, err error) (kubernetes.Interface, error) {
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return client, nil
}

// NewKubeFrom wraps an existing client (tests use a fake one).
func NewKubeFrom(client kubernetes.Interface) *Kube { return &Kube{client: client} }

const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

func (k *Kube) StorageClass(name string) (*Class, error) {
	ctx := context.Background()
	if name != "" {
		sc, err := k.client.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading StorageClass %s: %w", name, err)
		}
		return classOf(sc.Name, sc.Provisioner, sc.Parameters, (*string)(sc.ReclaimPolicy), (*string)(sc.VolumeBindingMode), sc.AllowVolumeExpansion, sc.MountOptions), nil
	}
	list, err := k.client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing StorageClasses: %w", err)
	}
	for _, sc := range list.Items {
		if sc.Annotations[defaultClassAnnotation] == "true" {
			return classOf(sc.Name, sc.Provisioner, sc.Parameters, (*string)(sc.ReclaimPolicy), (*string)(sc.VolumeBindingMode), sc.AllowVolumeExpansion, sc.MountOptions), nil
		}
	}
	return nil, nil
}

func classOf(name, provisioner string, params map[string]string, reclaim, binding *string, expand *bool, mount []string) *Class {
	c := &Class{Name: name, Provisioner: provisioner, Parameters: params, ReclaimPolicy: "Delete",
		VolumeBindingMode: "Immediate", AllowVolumeExpansion: expand, MountOptions: mount}
	if reclaim != nil {
		c.ReclaimPolicy = *reclaim
	}
	if binding != nil {
		c.VolumeBindingMode = *binding
	}
	return c
}

func (k *Kube) Kept(class string, claims []Claim) ([]Kept, error) {
	ctx := context.Background()
	pvs, err := k.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing PersistentVolumes: %w", err)
	}
	// Newest first: if a claim's volumes were kept more than once, the latest data wins.
	items := pvs.Items
	sort.SliceStable(items, func(i, j int) bool {
		return items[j].CreationTimestamp.Before(&items[i].CreationTimestamp)
	})
	var kept []Kept
	for _, c := range claims {
		pvc, err := k.client.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
		switch {
		case err == nil && pvc.Spec.VolumeName != "":
			continue // the claim exists and has its volume
		case err != nil && !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading claim %s: %w", c, err)
		}
		for _, pv := range items {
			ref := pv.Spec.ClaimRef
			if pv.Spec.StorageClassName != class || ref == nil || ref.Namespace != c.Namespace || ref.Name != c.Name ||
				pv.DeletionTimestamp != nil || pv.Status.Phase == corev1.VolumeFailed {
				continue
			}
			if pvc != nil && err == nil && ref.UID == pvc.UID {
				continue // the existing claim's own volume, about to bind
			}
			kept = append(kept, Kept{Volume: pv.Name, Claim: c, oldUID: string(ref.UID)})
			break
		}
	}
	return kept, nil
}

func (k *Kube) Reserve(kv Kept) error {
	if kv.Reserved() {
		return nil
	}
	// "test" first: if the claim reference changed since it was read, change nothing.
	patch, _ := json.Marshal([]map[string]any{
		{"op": "test", "path": "/spec/claimRef/uid", "value": kv.oldUID},
		{"op": "remove", "path": "/spec/claimRef/uid"},
	})
	_, err := k.client.CoreV1().PersistentVolumes().Patch(context.Background(), kv.Volume, types.JSONPatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("reserving volume %s for claim %s: %w", kv.Volume, kv.Claim, err)
	}
	return nil
}
