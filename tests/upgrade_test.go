package tests

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// TestRealUpgrade moves a 1.10.4 platform with data to 1.12.12 in one up, on the real node:
// SpaceONE 1.10.4's own code writes the data, 1.12.12's reads it back. The up is killed while
// the upgrade Job runs, and the Job's pod with it; the next up finishes, and no step of the
// move ran twice.
func TestRealUpgrade(t *testing.T) {
	needSim(t)
	rn := startRealNode(t)
	from := realRelease{version: "1.10.4", consul: true, plugins: true}
	to := realRelease{version: "1.12.12", plugins: true}
	exp := expect(t, from.version)
	p := newProject(t, "real", realStackConfig(t, from))
	p.setSecret(t, "adminPassword", realAdminPassword)
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up of %s: %v\n%s", from.version, err, tail(out, 60))
	}

	// The data, through 1.10.4's APIs: the backup test's, a cloud service with tags (1.10's
	// API takes a map and stores a list of key/value pairs) and a collector of the test plugin with an hourly schedule.
	ctl := newSpacectl(t, rn, from.version, clusterEndpoints(t, exp.Services))
	domainID := rootDomainID(t, ctl)
	ctl.run(t, "config", "set", "api_key", from.handedKey(t))
	data := createPlatformData(t, ctl, domainID)
	var cs struct {
		ID string `json:"cloud_service_id"`
	}
	spacectlJSON(t, ctl, &cs, "exec", "create", "inventory.CloudService", "-j", jsonArg(map[string]any{
		"cloud_service_type": "Instance", "cloud_service_group": "Compute", "provider": "backupcloud", "name": "vm-1",
		"data": map[string]any{"size": "small"}, "tags": map[string]any{"env": "prod"}, "domain_id": domainID}))
	collectorID := createScheduledCollector(t, ctl, from, domainID)

	// The change, confirmed; its preview says what it deletes. The settings 1.12.12 refuses
	// go: Consul's size (it runs none), and the plugin entry (1.12's repository would check
	// the 1.10.4 tag on Docker Hub, which the node stands in for 1.10.4's repository only;
	// a removed entry stays registered).
	p.run(t, "config", "rm", "--path", "stores.consul")
	p.run(t, "config", "rm", "plugins")
	p.run(t, "config", "set", "release", to.version)
	p.run(t, "config", "set", "confirmReleaseChange", from.version+"->"+to.version)
	if out := p.run(t, "preview"); !strings.Contains(out, "moves the data from 1.10.4 to 1.12.12") || !strings.Contains(out, "Consul with its volume claim") {
		t.Errorf("the preview does not say what the upgrade does and deletes:\n%s", tail(out, 30))
	}

	// The up, killed once the upgrade Job runs, and its pod with it.
	unavailable := watchIdentity(t, ctl)
	start := time.Now()
	cmd := exec.Command("pulumi", "up", "--yes", "--skip-preview", "--stack", p.stack, "--non-interactive")
	cmd.Dir, cmd.Env = p.dir, p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	pod := waitForPod(t, spaceoneNS, kube.NameLabel+"="+backup.Upgrade, 5*time.Minute)
	must(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL))
	cmd.Wait()
	killPlugins(t, p.dir)
	// The pod goes once its backup is taken and recorded, while it works through the steps.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out, _ := kubectl(t, "-n", spaceoneNS, "logs", pod); strings.Contains(out, "taken: to go back") {
			break
		}
	}
	mustKubectl(t, "-n", spaceoneNS, "delete", "pod", pod, "--wait=false")
	t.Logf("killed pulumi up, and the upgrade pod %s once its backup was taken, %s after the up started", pod, time.Since(start).Round(time.Second))
	if _, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Logf("recover.sh: %s", strings.TrimSpace(p.script(t, "recover.sh", p.stack)))
		if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
			t.Fatalf("pulumi up after the interrupted upgrade: %v\n%s", err, tail(out, 60))
		}
	}
	took := time.Since(start)
	gap := unavailable()
	t.Logf("bench: the upgrade took %s (the interrupted up, its recovery and the up that finished it); identity did not answer for %s of it",
		took.Round(time.Second), gap.Round(time.Second))

	// Each step of the move ran once, over every pod of the Job.
	var logs string
	for _, text := range rn.podLogs(t, spaceoneNS, backup.Upgrade) {
		logs += text
	}
	for _, step := range []string{"v1.11.0 cloud service shape", "v1.12.0 collector schedule", "v1.12.2 drops", "secrets from Consul"} {
		if n := strings.Count(logs, "spaceone upgrade: "+step+": done\n"); n != 1 {
			t.Errorf("step %q done %d times in the upgrade's logs:\n%s", step, n, tail(logs, 40))
		}
	}
	t.Logf("upgrade log:\n%s", strings.Join(grepLines(logs, "spaceone upgrade: "), "\n"))
	// A second pod, when the first was stopped mid-way, resumes from the ledger: no second backup.
	if n := strings.Count(logs, "taken: to go back"); n != 1 {
		t.Errorf("the upgrade took %d backups, want 1", n)
	}
	if strings.Contains(logs, "resuming the upgrade") {
		t.Logf("the second pod resumed the move: %d steps were done before it", strings.Count(logs, ": done before"))
	} else {
		t.Log("the first pod finished the move before it was stopped: no resume to see")
	}

	// 1.12.12 reads it all.
	ctl, token := data.checkOn(t, rn, to, expect(t, to.version), domainID, realAdminPassword, "the upgrade")
	if out := ctl.run(t, "exec", "get", "inventory.CloudService", "-p", "cloud_service_id="+cs.ID, "-p", "domain_id="+domainID, "-o", "json"); strings.Contains(out, "ERROR") || !strings.Contains(out, "prod") {
		t.Errorf("the cloud service with tags does not read back in 1.12:\n%s", tail(out, 20))
	}
	out := ctl.run(t, "exec", "get", "inventory.Collector", "-p", "collector_id="+collectorID, "-p", "domain_id="+domainID, "-o", "json")
	if !strings.Contains(strings.Join(strings.Fields(out), ""), `"schedule":{"state":"ENABLED","hours":[3,15]}`) {
		t.Errorf("the collector's schedule is not 1.12's {state, hours}:\n%s", tail(out, 30))
	}
	ctl.run(t, "config", "set", "api_key", token)

	// Nothing of 1.10.4 is left: no process of its packages, no Consul object.
	for _, proc := range rn.processes(t) {
		// python/<release> or python/<release>-<core>: every environment of the release's images.
		if strings.Contains(proc, "/python/"+from.version+"/") || strings.Contains(proc, "/python/"+from.version+"-") {
			t.Errorf("a 1.10.4 process still runs: %s", proc)
		}
	}
	core, apps := api(t).CoreV1(), api(t).AppsV1()
	var left []string
	for _, group := range [][]string{
		names(list(t, apps.StatefulSets(spaceoneNS).List, "").Items), names(list(t, core.Services(spaceoneNS).List, "").Items),
		names(list(t, core.PersistentVolumeClaims(spaceoneNS).List, "").Items), names(list(t, core.Pods(spaceoneNS).List, "").Items),
		names(list(t, core.ConfigMaps(spaceoneNS).List, "").Items),
	} {
		for _, n := range group {
			if strings.Contains(n, "consul") {
				left = append(left, n)
			}
		}
	}
	if len(left) > 0 {
		t.Errorf("Consul objects remain after the upgrade: %v", left)
	}
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes")
	p.run(t, "destroy", "--yes", "--skip-preview")
}

// createScheduledCollector makes a collector of the test plugin with a schedule at 03:00 and
// 15:00 (1.10: a schedule of its own, beside the collector).
func createScheduledCollector(t *testing.T, ctl *spacectlEnv, rel realRelease, domainID string) string {
	t.Helper()
	pluginInfo := map[string]any{"plugin_id": fakeCloudPlugin, "version": rel.version, "upgrade_mode": "MANUAL",
		"options": map[string]any{"regions": fakeCloudRegions}, "provider": fakeCloudProvider}
	var c struct {
		ID string `json:"collector_id"`
	}
	spacectlJSON(t, ctl, &c, "exec", "create", "inventory.Collector", "-j", jsonArg(map[string]any{"name": "nightly", "plugin_info": pluginInfo, "domain_id": domainID}))
	var s struct {
		ID string `json:"schedule_id"`
	}
	spacectlJSON(t, ctl, &s, "exec", "add_schedule", "inventory.Collector", "-j", jsonArg(map[string]any{
		"collector_id": c.ID, "name": "twice a day", "schedule": map[string]any{"hours": []int{3, 15}}, "domain_id": domainID}))
	if c.ID == "" || s.ID == "" {
		t.Fatalf("collector %q, schedule %q", c.ID, s.ID)
	}
	return c.ID
}

// waitForPod waits until a pod of the selector runs and returns its name.
func waitForPod(t *testing.T, ns, selector string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		pods, err := api(t).CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: selector, FieldSelector: "status.phase=Running"})
		if err == nil && len(pods.Items) > 0 {
			return pods.Items[0].Name
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no running pod %s in %s within %s", selector, ns, timeout)
	return ""
}

// watchIdentity calls identity through its Service every second until the returned function
// is called, which gives the longest time identity did not answer.
func watchIdentity(t *testing.T, ctl *spacectlEnv) func() time.Duration {
	var mu sync.Mutex
	var longest time.Duration
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		lastOK := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			cmd := exec.Command(ctl.bin, "list", "identity.Domain", "-o", "json")
			cmd.Env = append(os.Environ(), "HOME="+ctl.home, "PYTHONWARNINGS=ignore")
			b, _ := cmd.CombinedOutput()
			out := string(b)
			mu.Lock()
			if strings.Contains(out, "domain_id") {
				lastOK = time.Now()
			} else if gap := time.Since(lastOK); gap > longest {
				longest = gap
			}
			mu.Unlock()
		}
	}()
	return func() time.Duration {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return longest
	}
}
