package volumes

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pv(name, class, ns, claim, uid string, phase corev1.PersistentVolumePhase, age time.Duration) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))},
		Spec:       corev1.PersistentVolumeSpec{StorageClassName: class},
		Status:     corev1.PersistentVolumeStatus{Phase: phase},
	}
	if claim != "" {
		v.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: claim, UID: types.UID(uid)}
	}
	return v
}

func claims() []Claim {
	return []Claim{StoreClaim("spaceone", "mongodb"), StoreClaim("spaceone", "redis")}
}

func TestKeptFindsTheNewestReleasedVolumeOfEachMissingClaim(t *testing.T) {
	k := NewKubeFrom(fake.NewClientset(
		pv("old-mongo", "keep", "spaceone", "data-mongodb-0", "u1", corev1.VolumeReleased, 48*time.Hour),
		pv("new-mongo", "keep", "spaceone", "data-mongodb-0", "u2", corev1.VolumeReleased, time.Hour),
		pv("other-class", "fast", "spaceone", "data-redis-0", "u3", corev1.VolumeReleased, time.Hour),
		pv("other-ns", "keep", "elsewhere", "data-redis-0", "u4", corev1.VolumeReleased, time.Hour),
		pv("free", "keep", "", "", "", corev1.VolumeAvailable, time.Hour),
	))
	kept, err := k.Kept("keep", claims())
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Volume != "new-mongo" || kept[0].Claim.Name != "data-mongodb-0" || kept[0].Reserved() {
		t.Fatalf("kept = %+v, want only new-mongo for spaceone/data-mongodb-0, not yet reserved", kept)
	}
}

func TestKeptSkipsClaimsThatExistAndHaveTheirVolume(t *testing.T) {
	bound := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "spaceone", Name: "data-mongodb-0", UID: "u9"},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "live"},
	}
	k := NewKubeFrom(fake.NewClientset(bound,
		pv("live", "keep", "spaceone", "data-mongodb-0", "u9", corev1.VolumeBound, time.Hour),
		pv("older", "keep", "spaceone", "data-mongodb-0", "u1", corev1.VolumeReleased, 2*time.Hour),
	))
	kept, err := k.Kept("keep", claims())
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 0 {
		t.Fatalf("kept = %+v: a claim that has its volume must be left alone", kept)
	}
}

func TestReserveFreesTheVolumeForAClaimOfTheSameName(t *testing.T) {
	client := fake.NewClientset(pv("new-mongo", "keep", "spaceone", "data-mongodb-0", "u2", corev1.VolumeReleased, time.Hour))
	k := NewKubeFrom(client)
	kept, err := k.Kept("keep", claims())
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept = %+v, %v", kept, err)
	}
	if err := k.Reserve(kept[0]); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().PersistentVolumes().Get(context.Background(), "new-mongo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := got.Spec.ClaimRef; ref == nil || ref.UID != "" || ref.Name != "data-mongodb-0" || ref.Namespace != "spaceone" {
		t.Fatalf("claimRef after Reserve = %+v, want spaceone/data-mongodb-0 without a uid", ref)
	}
	// Reserved now: a second look reports it as such, and reserving again changes nothing.
	again, err := k.Kept("keep", claims())
	if err != nil || len(again) != 1 || !again[0].Reserved() {
		t.Fatalf("second look = %+v, %v; want the same volume, reserved", again, err)
	}
	if err := k.Reserve(again[0]); err != nil {
		t.Fatal(err)
	}
}

func TestReserveChangesNothingIfTheClaimReferenceMoved(t *testing.T) {
	client := fake.NewClientset(pv("v", "keep", "spaceone", "data-mongodb-0", "u2", corev1.VolumeReleased, time.Hour))
	k := NewKubeFrom(client)
	kept, _ := k.Kept("keep", claims())
	// Meanwhile something else bound the volume to another claim.
	moved := pv("v", "keep", "spaceone", "data-mongodb-0", "u7", corev1.VolumeBound, time.Hour)
	if _, err := client.CoreV1().PersistentVolumes().Update(context.Background(), moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := k.Reserve(kept[0]); err == nil {
		t.Fatal("Reserve succeeded on a volume whose claim reference changed")
	}
	got, _ := client.CoreV1().PersistentVolumes().Get(context.Background(), "v", metav1.GetOptions{})
	if got.Spec.ClaimRef.UID != "u7" {
		t.Fatalf("uid = %q, want u7 untouched", got.Spec.ClaimRef.UID)
	}
}

func TestStorageClassFindsTheDefault(t *testing.T) {
	retain := corev1.PersistentVolumeReclaimRetain
	objs := []runtime.Object{
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "p", ReclaimPolicy: &retain},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{defaultClassAnnotation: "true"}},
			Provisioner: "k8s.io/minikube-hostpath"},
	}
	k := NewKubeFrom(fake.NewClientset(objs...))
	c, err := k.StorageClass("")
	if err != nil || c == nil || c.Name != "standard" || c.ReclaimPolicy != "Delete" || c.Provisioner != "k8s.io/minikube-hostpath" {
		t.Fatalf("default class = %+v, %v; want standard, Delete (the API default), minikube-hostpath", c, err)
	}
	if c, err = k.StorageClass("fast"); err != nil || c.ReclaimPolicy != "Retain" {
		t.Fatalf("fast = %+v, %v", c, err)
	}
	if _, err = k.StorageClass("missing"); err == nil {
		t.Fatal("a missing class was not an error")
	}
	none, err := NewKubeFrom(fake.NewClientset()).StorageClass("")
	if err != nil || none != nil {
		t.Fatalf("no default class: %+v, %v; want nil, nil", none, err)
	}
}
