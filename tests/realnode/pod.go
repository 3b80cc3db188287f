package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podRun is one pod on the real node: its network namespace, its containers' processes
// (init containers first, in order), and the status the kubelet would report.
type podRun struct {
	a      *Agent
	pod    *corev1.Pod
	dir    string
	net    *PodNet
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	status corev1.PodStatus
	procs  map[string]running // container → its running process
}

// running is a container's process as an exec probe and `kubectl exec` enter it: its pid,
// environment and identity.
type running struct {
	proc *os.Process
	env  []string
	id   Identity
}

// enter is cmd run inside the container: its namespaces, root and working directory, its
// environment, as its user (as a kubelet's exec runs).
func (p running) enter(ctx context.Context, cmd []string) *exec.Cmd {
	args := append([]string{"-t", strconv.Itoa(p.proc.Pid), "-m", "-n", "-u", "-r", "-w"}, p.id.nsenterArgs()...)
	c := exec.CommandContext(ctx, "nsenter", append(append(args, "--"), cmd...)...)
	c.Env = p.env
	return c
}

func (r *podRun) key() string { return r.pod.Namespace + "/" + r.pod.Name }

// logPath is where a container's stdout and stderr go (what `kubectl logs` returns).
func (r *podRun) logPath(container string) string {
	return filepath.Join(r.a.LogDir, r.pod.Namespace+"_"+r.pod.Name+"_"+container+".log")
}

// notify sends the current status to virtual-kubelet.
func (r *podRun) notify() {
	r.mu.Lock()
	p := r.pod.DeepCopy()
	p.Status = *r.status.DeepCopy()
	r.mu.Unlock()
	r.a.notifyPod(p)
}

func (r *podRun) update(f func(s *corev1.PodStatus)) {
	r.mu.Lock()
	f(&r.status)
	r.recompute()
	r.mu.Unlock()
	r.notify()
}

func condition(t corev1.PodConditionType, ok bool) corev1.PodCondition {
	s := corev1.ConditionFalse
	if ok {
		s = corev1.ConditionTrue
	}
	return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()}
}

// recompute derives phase and conditions from the container statuses (called locked).
func (r *podRun) recompute() {
	s := &r.status
	initDone := true
	for _, c := range s.InitContainerStatuses {
		if c.State.Terminated == nil || c.State.Terminated.ExitCode != 0 {
			initDone = false
		}
	}
	allReady, anyRunning, allDone, anyFailed := len(s.ContainerStatuses) > 0, false, len(s.ContainerStatuses) > 0, false
	for _, c := range s.ContainerStatuses {
		allReady = allReady && c.Ready
		if c.State.Running != nil {
			anyRunning = true
		}
		if t := c.State.Terminated; t != nil {
			if t.ExitCode != 0 {
				anyFailed = true
			}
		} else {
			allDone = false
		}
	}
	for _, c := range s.InitContainerStatuses {
		if t := c.State.Terminated; t != nil && t.ExitCode != 0 && r.pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			anyFailed, allDone = true, true
		}
	}
	switch {
	case s.Phase == corev1.PodFailed || s.Phase == corev1.PodSucceeded:
	case allDone && anyFailed:
		s.Phase = corev1.PodFailed
	case allDone:
		s.Phase = corev1.PodSucceeded
	case anyRunning:
		s.Phase = corev1.PodRunning
	default:
		s.Phase = corev1.PodPending
	}
	ready := allReady && s.Phase == corev1.PodRunning
	keep := func(c corev1.PodCondition) corev1.PodCondition {
		for _, old := range s.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				return old
			}
		}
		return c
	}
	s.Conditions = []corev1.PodCondition{
		keep(condition(corev1.PodScheduled, true)),
		keep(condition(corev1.PodInitialized, initDone)),
		keep(condition(corev1.ContainersReady, ready)),
		keep(condition(corev1.PodReady, ready)),
	}
}

func (r *podRun) setContainer(init bool, name string, f func(c *corev1.ContainerStatus)) {
	r.update(func(s *corev1.PodStatus) {
		list := s.ContainerStatuses
		if init {
			list = s.InitContainerStatuses
		}
		for i := range list {
			if list[i].Name == name {
				f(&list[i])
			}
		}
	})
}

// start prepares the pod's network, volumes and files, then runs its containers in the
// background. A problem before any process starts fails the pod with the reason.
func (r *podRun) start() {
	defer close(r.done)
	if err := r.run(); err != nil && r.ctx.Err() == nil {
		log.Printf("pod %s: %v", r.key(), err)
		r.update(func(s *corev1.PodStatus) {
			s.Phase, s.Reason, s.Message = corev1.PodFailed, "RealNodeError", err.Error()
		})
	}
}

func (r *podRun) run() error {
	pod := r.pod
	now := metav1.Now()
	r.mu.Lock()
	r.status = corev1.PodStatus{Phase: corev1.PodPending, StartTime: &now, HostIP: r.a.NodeIP, HostIPs: []corev1.HostIP{{IP: r.a.NodeIP}}}
	waiting := func(c corev1.Container) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	}
	for _, c := range pod.Spec.InitContainers {
		r.status.InitContainerStatuses = append(r.status.InitContainerStatuses, waiting(c))
	}
	for _, c := range pod.Spec.Containers {
		r.status.ContainerStatuses = append(r.status.ContainerStatuses, waiting(c))
	}
	r.recompute()
	r.mu.Unlock()
	r.notify()

	// Every image must have a stand-in before anything is set up.
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		if _, err := r.a.Table.Lookup(c.Image); err != nil {
			r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) {
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "NoRuntime", Message: err.Error()}}
			})
			return err
		}
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	pn, err := r.a.Net.Add(r.a.nextID())
	if err != nil {
		return fmt.Errorf("pod network: %w", err)
	}
	r.mu.Lock()
	r.net = pn
	r.status.PodIP = pn.IP.String()
	r.status.PodIPs = []corev1.PodIP{{IP: pn.IP.String()}}
	r.mu.Unlock()
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	hosts := filepath.Join(r.dir, "hosts")
	// Names resolve as in a cluster: the node's DNS server (Services.serveDNS) with the
	// kubelet's search path, and the same records in /etc/hosts.
	resolv := filepath.Join(r.dir, "resolv.conf")
	ns := pod.Namespace
	if err := os.WriteFile(resolv, []byte("nameserver "+r.a.Net.Gateway().String()+"\nsearch "+ns+".svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644); err != nil {
		return err
	}
	if err := r.a.Services.AddPod(r.key(), hosts, pod.Namespace, hostname, pn.IP.String()); err != nil {
		return err
	}
	vols, err := r.materializeWhenReady()
	if err != nil {
		return err
	}
	for _, c := range pod.Spec.InitContainers {
		code, err := r.runContainer(true, c, vols, hostname, hosts, resolv)
		if err != nil {
			return err
		}
		if code != 0 {
			return nil // the pod failed (recompute) or the context ended
		}
	}
	var wg sync.WaitGroup
	for _, c := range pod.Spec.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.runContainer(false, c, vols, hostname, hosts, resolv); err != nil && r.ctx.Err() == nil {
				log.Printf("pod %s container %s: %v", r.key(), c.Name, err)
				r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) {
					cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error()}}
				})
			}
		}()
	}
	wg.Wait()
	return nil
}

// runContainer runs one container until it is done by its pod's restart policy (or the
// pod is deleted) and returns its last exit code.
func (r *podRun) runContainer(init bool, c corev1.Container, vols map[string]string, hostname, hosts, resolv string) (int, error) {
	rt, _ := r.a.Table.Lookup(c.Image)
	dirs, err := r.a.Table.PathDirs(rt)
	if err != nil {
		return 0, err
	}
	ms, err := mounts(&c, vols)
	if err != nil {
		return 0, err
	}
	id, err := identityOf(r.pod, &c)
	if err != nil {
		return 0, err
	}
	env := Environ(dirs, rt, &c, hostname)
	workDir := c.WorkingDir
	if workDir == "" {
		workDir = rt.WorkDir
	}
	spec := ContainerSpec{
		Root: filepath.Join(r.dir, "root-"+c.Name), Scratch: filepath.Join(r.dir, "scratch-"+c.Name),
		Hostname: hostname, Hosts: hosts, Resolv: resolv, Mounts: ms, Argv: Argv(rt, &c), Env: env, WorkDir: workDir,
		Identity: id,
	}
	policy := r.pod.Spec.RestartPolicy
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		if r.ctx.Err() != nil {
			return 0, nil
		}
		// A fresh root per start: the scratch of the previous run (overlay upper layers) goes.
		os.RemoveAll(spec.Root)
		os.RemoveAll(spec.Scratch)
		specFile := filepath.Join(r.dir, "spec-"+c.Name+".json")
		b, _ := json.Marshal(spec)
		if err := os.WriteFile(specFile, b, 0o600); err != nil {
			return 0, err
		}
		logf, err := os.OpenFile(r.logPath(c.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		cmd := exec.Command("nsenter", "--net="+r.net.Path(), "--",
			"unshare", "--mount", "--uts", "--propagation", "private", "--",
			r.a.Self, "container-init", specFile)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return 0, err
		}
		started := metav1.Now()
		r.mu.Lock()
		run := running{proc: cmd.Process, env: env, id: id}
		r.procs[c.Name] = run
		r.mu.Unlock()
		r.setContainer(init, c.Name, func(cs *corev1.ContainerStatus) {
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
			cs.Started = ptr(init || c.StartupProbe == nil)
			cs.ContainerID = fmt.Sprintf("realnode://%d", cmd.Process.Pid)
			cs.Ready = !init && c.ReadinessProbe == nil && c.StartupProbe == nil
		})
		pctx, stopProbes := context.WithCancel(r.ctx)
		if !init {
			go r.probe(pctx, c, run)
		}
		werr := cmd.Wait()
		stopProbes()
		logf.Close()
		r.mu.Lock()
		delete(r.procs, c.Name)
		r.mu.Unlock()
		code := 0
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			code = ee.ExitCode()
			if code < 0 {
				code = 137
			}
		} else if werr != nil {
			return 0, werr
		}
		if r.ctx.Err() != nil {
			return code, nil
		}
		restart := policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && code != 0)
		if init && code == 0 {
			restart = false
		}
		finished := metav1.Now()
		r.setContainer(init, c.Name, func(cs *corev1.ContainerStatus) {
			term := &corev1.ContainerStateTerminated{ExitCode: int32(code), StartedAt: started, FinishedAt: finished, Reason: "Completed"}
			if code != 0 {
				term.Reason = "Error"
				if c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
					term.Message = logTail(r.logPath(c.Name))
				}
			}
			cs.Ready = false
			if restart {
				cs.LastTerminationState = corev1.ContainerState{Terminated: term}
				cs.RestartCount++
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
					Message: fmt.Sprintf("exited with %d; restarting in %s", code, backoff)}}
			} else {
				cs.State = corev1.ContainerState{Terminated: term}
			}
		})
		log.Printf("pod %s container %s exited with %d (restart: %v)", r.key(), c.Name, code, restart)
		if !restart {
			return code, nil
		}
		select {
		case <-r.ctx.Done():
			return code, nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 20*time.Second)
	}
}

func ptr[T any](v T) *T { return &v }

// logTail is what the kubelet takes from the log for FallbackToLogsOnError: the last 80
// lines, at most 2048 bytes.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > 2048 {
		out = out[len(out)-2048:]
	}
	return out
}

// stop ends every process of the pod (SIGTERM to each process group, SIGKILL after the
// grace period, at most 10 s here) and removes its network namespace.
func (r *podRun) stop() {
	r.cancel()
	grace := 10 * time.Second
	if g := r.pod.Spec.TerminationGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < grace {
		grace = time.Duration(*g) * time.Second
	}
	r.mu.Lock()
	for _, p := range r.procs {
		syscall.Kill(-p.proc.Pid, syscall.SIGTERM)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
	case <-time.After(grace):
		r.mu.Lock()
		for _, p := range r.procs {
			syscall.Kill(-p.proc.Pid, syscall.SIGKILL)
		}
		r.mu.Unlock()
		<-r.done
	}
	r.a.Services.RemovePod(r.key())
	if r.net != nil {
		r.a.Net.Remove(r.net)
	}
	os.RemoveAll(r.dir)
}
