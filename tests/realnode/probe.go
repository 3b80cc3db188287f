package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs a container's startup, readiness and liveness probes as the kubelet does:
// readiness and liveness only once the startup probe has passed; the container is Ready
// while its readiness probe passes; a failed liveness probe kills it (its restart policy
// then decides).
func (r *podRun) probe(ctx context.Context, c corev1.Container, run running) {
	if c.StartupProbe != nil {
		if !r.await(ctx, c.StartupProbe, c, run, true) {
			if ctx.Err() == nil {
				syscall.Kill(-run.proc.Pid, syscall.SIGKILL)
			}
			return
		}
	}
	r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) { cs.Started = ptr(true) })
	if c.LivenessProbe != nil {
		go func() {
			if !r.await(ctx, c.LivenessProbe, c, run, false) && ctx.Err() == nil {
				syscall.Kill(-run.proc.Pid, syscall.SIGKILL)
			}
		}()
	}
	if c.ReadinessProbe == nil {
		r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) { cs.Ready = true })
		return
	}
	p := c.ReadinessProbe
	period := seconds(p.PeriodSeconds, 10)
	ready, fails, oks := false, 0, 0
	if !sleep(ctx, seconds(p.InitialDelaySeconds, 0)) {
		return
	}
	for {
		err := r.check(ctx, p, c, run)
		if err == nil {
			fails, oks = 0, oks+1
			if !ready && oks >= int(max(p.SuccessThreshold, 1)) {
				ready = true
				r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) { cs.Ready = true })
			}
		} else {
			oks, fails = 0, fails+1
			if ready && fails >= int(max(p.FailureThreshold, 3)) {
				ready = false
				r.setContainer(false, c.Name, func(cs *corev1.ContainerStatus) { cs.Ready = false })
			}
		}
		if !sleep(ctx, period) {
			return
		}
	}
}

// await probes until success (true) or until FailureThreshold consecutive failures (false).
// once: return at the first success (startup); otherwise keep probing while it passes
// (liveness) and return false at the threshold.
func (r *podRun) await(ctx context.Context, p *corev1.Probe, c corev1.Container, run running, once bool) bool {
	if !sleep(ctx, seconds(p.InitialDelaySeconds, 0)) {
		return false
	}
	fails := 0
	for {
		if err := r.check(ctx, p, c, run); err == nil {
			fails = 0
			if once {
				return true
			}
		} else {
			fails++
			if fails >= int(max(p.FailureThreshold, 3)) {
				r.event(c.Name, fmt.Sprintf("probe failed %d times: %v", fails, err))
				return false
			}
		}
		if !sleep(ctx, seconds(p.PeriodSeconds, 10)) {
			return false
		}
	}
}

func (r *podRun) event(container, msg string) {
	fmt.Fprintf(logWriter, "pod %s container %s: %s\n", r.key(), container, msg)
}

func seconds(v int32, def int) time.Duration {
	if v <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(v) * time.Second
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// check runs one probe once, against the pod's address or inside the container.
func (r *podRun) check(ctx context.Context, p *corev1.Probe, c corev1.Container, run running) error {
	ctx, cancel := context.WithTimeout(ctx, seconds(p.TimeoutSeconds, 1))
	defer cancel()
	ip := r.net.IP.String()
	switch {
	case p.Exec != nil:
		out, err := run.enter(ctx, p.Exec.Command).CombinedOutput()
		if err != nil {
			return fmt.Errorf("exec %v: %v: %s", p.Exec.Command, err, out)
		}
		return nil
	case p.GRPC != nil:
		conn, err := grpc.NewClient(net.JoinHostPort(ip, strconv.Itoa(int(p.GRPC.Port))), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		svc := ""
		if p.GRPC.Service != nil {
			svc = *p.GRPC.Service
		}
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return err
		}
		if resp.Status != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("grpc health: %s", resp.Status)
		}
		return nil
	case p.HTTPGet != nil:
		port, err := portOf(p.HTTPGet.Port, c)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, strconv.Itoa(port))+p.HTTPGet.Path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("http %s: %d", p.HTTPGet.Path, resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := portOf(p.TCPSocket.Port, c)
		if err != nil {
			return err
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("probe has no handler")
}

func portOf(p intstr.IntOrString, c corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no container port named %s", p.StrVal)
}
