package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A pod whose Secret is missing waits as under a kubelet: no error (the pod is not failed, so
// its ReplicaSet makes no new one), a FailedMount event naming the volume and the Secret, and
// a retry that mounts the Secret once it exists.
func TestMissingSecretWaitsWithFailedMountAndMountsWhenItExists(t *testing.T) {
	client := fake.NewSimpleClientset()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "scheduler-0", Namespace: "spaceone", UID: "uid-1"},
		Spec: corev1.PodSpec{NodeName: "realnode", Volumes: []corev1.Volume{{Name: "api-key",
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "spaceone-api-key"}}}}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &podRun{a: &Agent{Client: client}, pod: pod, dir: t.TempDir(), ctx: ctx}
	type result struct {
		vols map[string]string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		vols, err := r.materializeWhenReady()
		done <- result{vols, err}
	}()

	var events []corev1.Event
	for deadline := time.Now().Add(10 * time.Second); len(events) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		list, err := client.CoreV1().Events("spaceone").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		events = list.Items
	}
	if len(events) == 0 {
		t.Fatal("no event while the Secret is missing")
	}
	e := events[0]
	if e.Reason != "FailedMount" || e.Type != corev1.EventTypeWarning || e.InvolvedObject.Name != "scheduler-0" ||
		!strings.Contains(e.Message, `volume "api-key"`) || !strings.Contains(e.Message, "spaceone-api-key") {
		t.Errorf("event %s %s on %s: %q; want a Warning FailedMount naming the volume and the Secret", e.Type, e.Reason, e.InvolvedObject.Name, e.Message)
	}
	select {
	case res := <-done:
		t.Fatalf("the mount gave up while the Secret is missing: %v", res.err)
	case <-time.After(time.Second):
	}

	if _, err := client.CoreV1().Secrets("spaceone").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "spaceone-api-key", Namespace: "spaceone"},
		Data:       map[string][]byte{"api_key": []byte("k")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		if b, err := os.ReadFile(filepath.Join(res.vols["api-key"], "api_key")); err != nil || string(b) != "k" {
			t.Errorf("the Secret, once there, is mounted: %q, %v", b, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Secret exists, and the pod still waits")
	}
}

// A volume of a kind the node cannot make is an error at once: waiting would not help.
func TestUnsupportedVolumeFailsAtOnce(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "x", Path: "/"}}}}}}
	r := &podRun{a: &Agent{Client: fake.NewSimpleClientset()}, pod: pod, dir: t.TempDir(), ctx: context.Background()}
	if _, err := r.materializeWhenReady(); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("an nfs volume: %v", err)
	}
}
