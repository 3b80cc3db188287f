package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	dto "github.com/prometheus/client_model/go"
	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Agent is the virtual-kubelet provider of the real node: each pod scheduled to the node
// runs as real processes (see podRun), with status taken from those processes.
type Agent struct {
	Client   kubernetes.Interface
	Table    *Table
	Net      *Network
	Services *Services
	NodeIP   string
	StateDir string // pods' scratch directories
	LogDir   string // containers' logs, <namespace>_<pod>_<container>.log
	Self     string // this binary, for container-init

	mu     sync.Mutex
	pods   map[string]*podRun
	notify func(*corev1.Pod)
	ids    atomic.Uint64
}

func (a *Agent) nextID() string { return strconv.FormatUint(a.ids.Add(1), 36) }

func podKey(ns, name string) string { return ns + "/" + name }

// CreatePod starts a pod's processes.
func (a *Agent) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := podKey(pod.Namespace, pod.Name)
	if _, ok := a.pods[k]; ok {
		return nil
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &podRun{a: a, pod: pod.DeepCopy(), dir: filepath.Join(a.StateDir, string(pod.UID)), ctx: rctx, cancel: cancel,
		done: make(chan struct{}), procs: map[string]running{}}
	a.pods[k] = r
	go r.start()
	return nil
}

// UpdatePod: a running pod's spec changes only in ways a real node ignores here (image
// changes come as new pods from the controllers this project uses).
func (a *Agent) UpdatePod(ctx context.Context, pod *corev1.Pod) error { return nil }

// DeletePod stops a pod's processes and reports every container terminated.
func (a *Agent) DeletePod(ctx context.Context, pod *corev1.Pod) error {
	a.mu.Lock()
	k := podKey(pod.Namespace, pod.Name)
	r, ok := a.pods[k]
	delete(a.pods, k)
	a.mu.Unlock()
	if !ok {
		return errdefs.NotFound("pod not found")
	}
	r.stop()
	r.mu.Lock()
	now := metav1.Now()
	for _, list := range [][]corev1.ContainerStatus{r.status.ContainerStatuses, r.status.InitContainerStatuses} {
		for i := range list {
			if list[i].State.Terminated == nil {
				list[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Killed", FinishedAt: now}}
			}
			list[i].Ready = false
		}
	}
	if r.status.Phase != corev1.PodSucceeded && r.status.Phase != corev1.PodFailed {
		r.status.Phase = corev1.PodFailed
		r.status.Reason = "Deleted"
	}
	r.recompute()
	r.mu.Unlock()
	r.notify()
	// As the kubelet does once every container has ended: remove the pod object at once
	// (virtual-kubelet would otherwise wait out the grace period before it does).
	if pod.DeletionTimestamp != nil {
		uid := pod.UID
		err := a.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("removing pod %s: %w", k, err)
		}
	}
	return nil
}

// StopAll ends every pod (the agent is shutting down).
func (a *Agent) StopAll() {
	a.mu.Lock()
	runs := make([]*podRun, 0, len(a.pods))
	for _, r := range a.pods {
		runs = append(runs, r)
	}
	a.pods = map[string]*podRun{}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() { defer wg.Done(); r.stop() }()
	}
	wg.Wait()
}

func (a *Agent) get(ns, name string) *podRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pods[podKey(ns, name)]
}

func (a *Agent) GetPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	r := a.get(ns, name)
	if r == nil {
		return nil, errdefs.NotFound("pod not found")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pod.DeepCopy()
	p.Status = *r.status.DeepCopy()
	return p, nil
}

func (a *Agent) GetPodStatus(ctx context.Context, ns, name string) (*corev1.PodStatus, error) {
	p, err := a.GetPod(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return &p.Status, nil
}

func (a *Agent) GetPods(ctx context.Context) ([]*corev1.Pod, error) {
	a.mu.Lock()
	runs := make([]*podRun, 0, len(a.pods))
	for _, r := range a.pods {
		runs = append(runs, r)
	}
	a.mu.Unlock()
	var out []*corev1.Pod
	for _, r := range runs {
		if p, err := a.GetPod(ctx, r.pod.Namespace, r.pod.Name); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// NotifyPods registers virtual-kubelet's status callback.
func (a *Agent) NotifyPods(ctx context.Context, f func(*corev1.Pod)) {
	a.mu.Lock()
	a.notify = f
	a.mu.Unlock()
}

func (a *Agent) notifyPod(p *corev1.Pod) {
	a.mu.Lock()
	f := a.notify
	a.mu.Unlock()
	if f != nil {
		f(p)
	}
}

// GetContainerLogs serves `kubectl logs` from the container's log file.
func (a *Agent) GetContainerLogs(ctx context.Context, ns, pod, container string, opts api.ContainerLogOpts) (io.ReadCloser, error) {
	r := a.get(ns, pod)
	if r == nil {
		return nil, errdefs.NotFound("pod not found")
	}
	f, err := os.Open(r.logPath(container))
	if err != nil {
		return nil, errdefs.NotFound(err.Error())
	}
	return f, nil
}

// RunInContainer serves `kubectl exec`: the command runs in the container's namespaces and
// root, with its environment and as its user, as a kubelet's exec does (no TTY here).
func (a *Agent) RunInContainer(ctx context.Context, ns, pod, container string, cmd []string, attach api.AttachIO) error {
	r := a.get(ns, pod)
	if r == nil {
		return errdefs.NotFound("pod not found")
	}
	r.mu.Lock()
	p, ok := r.procs[container]
	r.mu.Unlock()
	if !ok {
		return errdefs.InvalidInput("container " + container + " is not running")
	}
	c := p.enter(ctx, cmd)
	if in := attach.Stdin(); in != nil {
		c.Stdin = in
	}
	if out := attach.Stdout(); out != nil {
		c.Stdout = out
	}
	if errw := attach.Stderr(); errw != nil {
		c.Stderr = errw
	}
	return c.Run()
}

func (a *Agent) AttachToContainer(ctx context.Context, ns, pod, container string, attach api.AttachIO) error {
	return errdefs.InvalidInput("attach is not supported by the real node")
}

func (a *Agent) GetStatsSummary(context.Context) (*statsv1alpha1.Summary, error) {
	return nil, errdefs.InvalidInput("stats are not supported by the real node")
}

func (a *Agent) GetMetricsResource(context.Context) ([]*dto.MetricFamily, error) {
	return nil, errdefs.InvalidInput("metrics are not supported by the real node")
}

// PortForward serves `kubectl port-forward`: a connection to the pod's address.
func (a *Agent) PortForward(ctx context.Context, ns, pod string, port int32, stream io.ReadWriteCloser) error {
	r := a.get(ns, pod)
	if r == nil || r.net == nil {
		return errdefs.NotFound("pod not found")
	}
	c, err := net.Dial("tcp", net.JoinHostPort(r.net.IP.String(), strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("port-forward to %s/%s:%d: %w", ns, pod, port, err)
	}
	defer c.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(c, stream); done <- struct{}{} }()
	go func() { io.Copy(stream, c); done <- struct{}{} }()
	<-done
	return nil
}
