package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// podReady tells whether the pod's Ready condition is true.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// checkTokenReadinessSurvivesLogRotation: the release's token consumers are Ready once they
// logged that they hold the key, a line written once, at start. python-core rotates the log
// file at 10 MB and drops it after 10 rotations; here each consumer's log files are emptied
// as if that had happened, and every consumer must stay Ready for longer than its readiness
// probe takes to fail (period × failure threshold, twice over).
func checkTokenReadinessSurvivesLogRotation(t *testing.T, rn *realNode, exp expected) {
	t.Helper()
	var pods []workload // ns and pod name
	var watch time.Duration
	for _, w := range exp.Consumers {
		consumers := list(t, api(t).CoreV1().Pods(w.ns).List, kube.NameLabel+"="+w.name).Items
		if len(consumers) == 0 {
			t.Errorf("token consumer %s has no pod", w)
			continue
		}
		for _, p := range consumers {
			probe := p.Spec.Containers[0].ReadinessProbe
			if probe == nil || probe.Exec == nil {
				t.Errorf("token consumer %s/%s has no exec readiness probe, though the catalogue's tokenReady has a command", w.ns, p.Name)
				continue
			}
			if !podReady(&p) {
				t.Errorf("token consumer %s/%s is not Ready before its log rotates", w.ns, p.Name)
			}
			watch = max(watch, 2*time.Duration(probe.PeriodSeconds*probe.FailureThreshold)*time.Second)
			logs := filepath.Join(rn.dir, "pods", string(p.UID), "volumes", kube.LogVolume)
			files, _ := filepath.Glob(filepath.Join(logs, "*.log*"))
			var held bool
			for _, f := range files {
				b, err := os.ReadFile(f)
				must(t, err)
				held = held || strings.Contains(string(b), "[_validate_token] token: ")
				// What RotatingFileHandler leaves after 10 more rotations: a log without the line.
				if strings.HasSuffix(f, ".log") {
					must(t, os.Truncate(f, 0))
				} else {
					must(t, os.Remove(f))
				}
			}
			if !held {
				t.Errorf("token consumer %s/%s: no log file in its log volume (%s) says it holds the key: %v", w.ns, p.Name, logs, files)
			}
			t.Logf("%s/%s: emptied its log files %v", w.ns, p.Name, files)
			pods = append(pods, workload{w.ns, p.Name})
		}
	}
	if t.Failed() {
		return
	}
	deadline := time.Now().Add(watch)
	for time.Now().Before(deadline) {
		for _, p := range pods {
			if !podReady(get(t, api(t).CoreV1().Pods(p.ns).Get, p.name)) {
				t.Fatalf("token consumer %s stopped being Ready after its log rotated", p)
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("%d token consumers stayed Ready for %s after their logs rotated", len(pods), watch)
}
