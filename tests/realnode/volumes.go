package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// materialize makes every volume of a pod a host directory under dir: ConfigMaps, Secrets and
// projected volumes as files (as the kubelet writes them), emptyDirs as empty directories,
// claims as their PersistentVolume's hostPath (so data survives the pod). It returns each
// volume's host path by name.
func materialize(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, dir string) (map[string]string, error) {
	paths := map[string]string{}
	var fsGroup *int64
	if pod.Spec.SecurityContext != nil {
		fsGroup = pod.Spec.SecurityContext.FSGroup
	}
	for _, v := range pod.Spec.Volumes {
		p := filepath.Join(dir, "volumes", v.Name)
		var err error
		switch {
		case v.EmptyDir != nil:
			err = os.MkdirAll(p, 0o777)
		case v.ConfigMap != nil:
			err = writeConfigMap(ctx, client, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, optional(v.ConfigMap.Optional), p)
		case v.Secret != nil:
			err = writeSecret(ctx, client, pod.Namespace, v.Secret.SecretName, v.Secret.Items, optional(v.Secret.Optional), p)
		case v.Projected != nil:
			err = writeProjected(ctx, client, pod, v.Projected, p)
		case v.PersistentVolumeClaim != nil:
			p, err = claimPath(ctx, client, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
		case v.HostPath != nil:
			p = v.HostPath.Path
			err = os.MkdirAll(p, 0o755)
		default:
			return nil, fmt.Errorf("volume %s: this kind of volume is not supported by the real node", v.Name)
		}
		if err == nil && fsGroup != nil && (v.EmptyDir != nil || v.ConfigMap != nil || v.Secret != nil || v.Projected != nil) {
			err = giveToFSGroup(p, *fsGroup)
		}
		if err != nil {
			return nil, &mountError{volume: v.Name, err: err}
		}
		paths[v.Name] = p
	}
	return paths, nil
}

func optional(b *bool) bool { return b != nil && *b }

// mountError is a volume that cannot be made yet: its Secret, ConfigMap or key missing, its
// claim not bound. A kubelet keeps such a pod Pending in ContainerCreating and tries again.
type mountError struct {
	volume string
	err    error
}

func (e *mountError) Error() string { return fmt.Sprintf("volume %s: %v", e.volume, e.err) }
func (e *mountError) Unwrap() error { return e.err }

// mountRetryMax is the longest wait between two tries to mount (the kubelet's backoff ends
// near two minutes too).
const mountRetryMax = 2 * time.Minute

// materializeWhenReady is materialize as a kubelet mounts: while a volume cannot be made, the
// pod stays Pending (its containers waiting in ContainerCreating), a FailedMount event says
// why, and the mount is tried again with a growing backoff; the pod is never failed for it.
// It returns when every volume is made, or with the pod's context.
func (r *podRun) materializeWhenReady() (map[string]string, error) {
	backoff := 500 * time.Millisecond
	for {
		vols, err := materialize(r.ctx, r.a.Client, r.pod, r.dir)
		var missing *mountError
		if err == nil || !errors.As(err, &missing) {
			return vols, err
		}
		r.failedMount(missing)
		if !sleep(r.ctx, backoff) {
			return nil, r.ctx.Err()
		}
		backoff = min(backoff*2, mountRetryMax)
	}
}

// failedMount records a FailedMount event on the pod, as the kubelet's volume manager does.
func (r *podRun) failedMount(e *mountError) {
	pod, now := r.pod, metav1.Now()
	msg := fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.volume, e.err)
	log.Printf("pod %s: %s", r.key(), msg)
	_, err := r.a.Client.CoreV1().Events(pod.Namespace).Create(r.ctx, &corev1.Event{
		// named as the kubelet's event recorder names them
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod.Name, now.UnixNano()), Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason: "FailedMount", Message: msg, Type: corev1.EventTypeWarning, Count: 1,
		Source:         corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
		FirstTimestamp: now, LastTimestamp: now, ReportingController: "kubelet", ReportingInstance: pod.Spec.NodeName,
	}, metav1.CreateOptions{})
	if err != nil && r.ctx.Err() == nil {
		log.Printf("pod %s: recording FailedMount: %v", r.key(), err)
	}
}

func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(items) > 0 {
		sel := map[string][]byte{}
		for _, it := range items {
			v, ok := data[it.Key]
			if !ok {
				return fmt.Errorf("key %s not found", it.Key)
			}
			sel[it.Path] = v
		}
		data = sel
	}
	for name, v := range data {
		f := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, v, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeConfigMap(ctx context.Context, client kubernetes.Interface, ns, name string, items []corev1.KeyToPath, opt bool, dir string) error {
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if opt {
			return os.MkdirAll(dir, 0o755)
		}
		return fmt.Errorf("configmap %s: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return writeFiles(dir, data, items)
}

func writeSecret(ctx context.Context, client kubernetes.Interface, ns, name string, items []corev1.KeyToPath, opt bool, dir string) error {
	s, err := client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if opt {
			return os.MkdirAll(dir, 0o700)
		}
		return fmt.Errorf("secret %s: %w", name, err)
	}
	if err := writeFiles(dir, s.Data, items); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// writeProjected writes a projected volume; a service account token is requested for the
// pod from the API server (TokenRequest), as the kubelet does.
func writeProjected(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, v *corev1.ProjectedVolumeSource, dir string) error {
	for _, src := range v.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			exp := int64(3600)
			if src.ServiceAccountToken.ExpirationSeconds != nil {
				exp = *src.ServiceAccountToken.ExpirationSeconds
			}
			var aud []string
			if src.ServiceAccountToken.Audience != "" {
				aud = []string{src.ServiceAccountToken.Audience}
			}
			sa := pod.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			tr, err := client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{
					Audiences: aud, ExpirationSeconds: &exp,
					BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("token for service account %s: %w", sa, err)
			}
			if err := writeFiles(dir, map[string][]byte{src.ServiceAccountToken.Path: []byte(tr.Status.Token)}, nil); err != nil {
				return err
			}
		case src.ConfigMap != nil:
			if err := writeConfigMap(ctx, client, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, optional(src.ConfigMap.Optional), dir); err != nil {
				return err
			}
		case src.Secret != nil:
			if err := writeSecret(ctx, client, pod.Namespace, src.Secret.Name, src.Secret.Items, optional(src.Secret.Optional), dir); err != nil {
				return err
			}
		case src.DownwardAPI != nil:
			data := map[string][]byte{}
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					continue
				}
				switch it.FieldRef.FieldPath {
				case "metadata.namespace":
					data[it.Path] = []byte(pod.Namespace)
				case "metadata.name":
					data[it.Path] = []byte(pod.Name)
				default:
					return fmt.Errorf("downward API field %s is not supported by the real node", it.FieldRef.FieldPath)
				}
			}
			if err := writeFiles(dir, data, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// claimPath is the hostPath of the PersistentVolume bound to a claim.
func claimPath(ctx context.Context, client kubernetes.Interface, ns, claim string) (string, error) {
	pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("claim %s is not bound", claim)
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("volume %s is not a hostPath volume", pv.Name)
	}
	// Open to every user, as minikube's hostpath provisioner makes its volumes (a kubelet
	// applies no fsGroup to a hostPath): the stores run as their images' users.
	if err := os.MkdirAll(pv.Spec.HostPath.Path, 0o777); err != nil {
		return "", err
	}
	return pv.Spec.HostPath.Path, os.Chmod(pv.Spec.HostPath.Path, 0o777)
}

// mounts resolves a container's volumeMounts (subPath included) to host paths.
func mounts(c *corev1.Container, vols map[string]string) ([]Mount, error) {
	var out []Mount
	for _, m := range c.VolumeMounts {
		src, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("mount %s: no volume %s", m.MountPath, m.Name)
		}
		if m.SubPath != "" {
			if strings.Contains(m.SubPath, "..") {
				return nil, fmt.Errorf("mount %s: subPath %q", m.MountPath, m.SubPath)
			}
			src = filepath.Join(src, m.SubPath)
			if _, err := os.Stat(src); err != nil {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, Mount{Source: src, Target: m.MountPath, ReadOnly: m.ReadOnly})
	}
	return out, nil
}
