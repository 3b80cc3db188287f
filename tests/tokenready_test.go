package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// consumerPod is what the readiness check reads of a token consumer's pod.
type consumerPod struct {
	Metadata struct{ Name, UID string }
	Spec     struct {
		Containers []struct {
			ReadinessProbe *struct {
				Exec             *struct{ Command []string }
				PeriodSeconds    int
				FailureThreshold int
			}
		}
	}
	Status struct {
		Conditions []struct{ Type, Status string }
	}
}

func (p consumerPod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
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
		var list struct{ Items []consumerPod }
		must(t, json.Unmarshal([]byte(mustKubectl(t, "-n", w.ns, "get", "pods", "-l", "app.kubernetes.io/name="+w.name, "-o", "json")), &list))
		if len(list.Items) == 0 {
			t.Errorf("token consumer %s has no pod", w)
			continue
		}
		for _, p := range list.Items {
			probe := p.Spec.Containers[0].ReadinessProbe
			if probe == nil || probe.Exec == nil {
				t.Errorf("token consumer %s/%s has no exec readiness probe, though the catalogue's tokenReady has a command", w.ns, p.Metadata.Name)
				continue
			}
			if !p.ready() {
				t.Errorf("token consumer %s/%s is not Ready before its log rotates", w.ns, p.Metadata.Name)
			}
			watch = max(watch, 2*time.Duration(probe.PeriodSeconds*probe.FailureThreshold)*time.Second)
			logs := filepath.Join(rn.dir, "pods", p.Metadata.UID, "volumes", kube.LogVolume)
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
				t.Errorf("token consumer %s/%s: no log file in its log volume (%s) says it holds the key: %v", w.ns, p.Metadata.Name, logs, files)
			}
			t.Logf("%s/%s: emptied its log files %v", w.ns, p.Metadata.Name, files)
			pods = append(pods, workload{w.ns, p.Metadata.Name})
		}
	}
	if t.Failed() {
		return
	}
	deadline := time.Now().Add(watch)
	for time.Now().Before(deadline) {
		for _, p := range pods {
			var now consumerPod
			must(t, json.Unmarshal([]byte(mustKubectl(t, "-n", p.ns, "get", "pod", p.name, "-o", "json")), &now))
			if !now.ready() {
				t.Fatalf("token consumer %s stopped being Ready after its log rotated", p)
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("%d token consumers stayed Ready for %s after their logs rotated", len(pods), watch)
}
