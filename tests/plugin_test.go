package tests

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// The test plugin (tests/plugins/fakecloud): a collector of our own, on each release's
// spaceone-core and spaceone-api, in the node's stand-in registry (tests/realnode/runtimes.yaml).
const (
	fakeCloudImage    = "spaceone-pulumi/fakecloud-collector"
	fakeCloudProvider = "fakecloud"
	fakeCloudPlugin   = "fakecloud-collector" // its plugin_id: SpaceONE takes the image's last segment
	nodeRegistryPort  = 5000                  // the node's stand-in registry, on the pods' gateway
)

// fakeCloudRegions are the collector's options; the plugin makes two instances per region.
var fakeCloudRegions = []string{"north", "south"}

// fakeCloudImages is the test plugin's image as the stack names it and as the supervisor runs
// it: a release whose repository reads a registry's v2 API gets it from the node's stand-in
// registry, as a user's private registry (plain HTTP, as one on a private network may be);
// 1.10.4, whose repository reads only Docker Hub, from the node's stand-in for Docker Hub.
func fakeCloudImages(t *testing.T, rel realRelease) (stack, runs string, insecure bool) {
	t.Helper()
	r, err := catalog.Load(rel.version)
	must(t, err)
	if !slices.Contains(r.PluginRegistries(), catalog.RegistryHarbor) {
		return fakeCloudImage, "registry.hub.docker.com/" + fakeCloudImage + ":" + rel.version, false
	}
	registry := net.JoinHostPort(nodeHostAddress(t), strconv.Itoa(nodeRegistryPort))
	return registry + "/" + fakeCloudImage, registry + "/" + fakeCloudImage + ":" + rel.version, true
}

// pluginStackConfig registers the test plugin through spaceone:plugins, as a user would.
func pluginStackConfig(t *testing.T, rel realRelease) string {
	image, _, insecure := fakeCloudImages(t, rel)
	return fmt.Sprintf("  spaceone:images: {insecureRegistry: %t}\n"+
		"  spaceone:plugins:\n"+
		"  - {name: FakeCloud Collector, image: %s, version: %s, serviceType: inventory.Collector, provider: %s}\n",
		insecure, image, rel.version, fakeCloudProvider)
}

// spacectlJSON runs a spacectl call with JSON output and decodes it; spacectl exits 0 on its
// own errors, so an "ERROR" in its output fails the test with the call named.
func spacectlJSON(t *testing.T, ctl *spacectlEnv, into any, args ...string) {
	t.Helper()
	out := ctl.run(t, append(args, "-o", "json")...)
	if strings.Contains(out, "ERROR") {
		t.Fatalf("spacectl %s: %s", strings.Join(args, " "), tail(out, 20))
	}
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("spacectl %s: not JSON (%v):\n%s", strings.Join(args, " "), err, tail(out, 20))
	}
}

func jsonArg(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkPluginCollects is SpaceONE doing its job: a provider service account with secret data,
// a collector of the test plugin (registered by up from spaceone:plugins), a collection, all
// through SpaceONE's APIs; the supervisor runs the plugin, inventory stores what it returned.
func checkPluginCollects(t *testing.T, ctl *spacectlEnv, rn *realNode, rel realRelease, domainID string) {
	// The plugin as up registered it in the local repository (1.10.4 lists plugins only by
	// repository).
	var repos struct {
		Results []struct {
			ID string `json:"repository_id"`
		} `json:"results"`
	}
	spacectlJSON(t, ctl, &repos, "list", "repository.Repository", "-p", "repository_type=local")
	if len(repos.Results) != 1 {
		t.Fatalf("%d local repositories, want the one up registers", len(repos.Results))
	}
	var plugins struct {
		Results []struct {
			PluginID     string `json:"plugin_id"`
			Image        string `json:"image"`
			RegistryType string `json:"registry_type"`
			RegistryURL  string `json:"registry_url"`
		} `json:"results"`
	}
	spacectlJSON(t, ctl, &plugins, "list", "repository.Plugin", "-p", "repository_id="+repos.Results[0].ID, "-p", "domain_id="+domainID)
	if len(plugins.Results) != 1 || plugins.Results[0].PluginID != fakeCloudPlugin {
		t.Fatalf("the local repository holds %+v, want the one plugin of spaceone:plugins", plugins.Results)
	}
	t.Logf("registered by up: plugin %+v", plugins.Results[0])

	account := "acme-42"
	accessKey := randomHex(t, 20) // a fresh secret per run, so finding it in a log is a real leak
	ctl.run(t, "exec", "create", "identity.Provider", "-j", jsonArg(map[string]any{"provider": fakeCloudProvider, "name": "FakeCloud", "domain_id": domainID}))
	sa := map[string]any{"name": "fakecloud " + account, "provider": fakeCloudProvider, "data": map[string]any{},
		"service_account_type": "GENERAL", "domain_id": domainID}
	var account1 struct {
		ID string `json:"service_account_id"`
	}
	spacectlJSON(t, ctl, &account1, "exec", "create", "identity.ServiceAccount", "-j", jsonArg(sa))
	var secret struct {
		ID string `json:"secret_id"`
	}
	spacectlJSON(t, ctl, &secret, "exec", "create", "secret.Secret", "-j", jsonArg(map[string]any{
		"name": "fakecloud credentials", "secret_type": "CREDENTIALS", "service_account_id": account1.ID, "domain_id": domainID,
		"data": map[string]any{"account_id": account, "access_key": accessKey}}))

	// The collector: creating it asks the plugin service for the plugin's endpoint, which has
	// the supervisor run it (its next sync), and then calls the plugin's init.
	pluginInfo := map[string]any{"plugin_id": fakeCloudPlugin, "version": rel.version, "upgrade_mode": "MANUAL",
		"options": map[string]any{"regions": fakeCloudRegions}}
	collector := map[string]any{"name": "fakecloud", "plugin_info": pluginInfo, "domain_id": domainID}
	if rel.consul { // 1.10 picks the secrets by the plugin's provider
		pluginInfo["provider"] = fakeCloudProvider
	} else {
		collector["provider"] = fakeCloudProvider
	}
	start := time.Now()
	var created struct {
		ID string `json:"collector_id"`
	}
	spacectlJSON(t, ctl, &created, "exec", "create", "inventory.Collector", "-j", jsonArg(collector))
	startPlugin := time.Since(start)
	t.Logf("collector created in %s (the supervisor's sync, the plugin's start, its init)", startPlugin.Round(time.Second))

	deployment, service := checkSupervisorRunsThePlugin(t, rel)

	// A collection, and its job.
	start = time.Now()
	var job struct {
		ID string `json:"job_id"`
	}
	spacectlJSON(t, ctl, &job, "exec", "collect", "inventory.Collector", "-p", "collector_id="+created.ID, "-p", "domain_id="+domainID)
	status := waitJob(t, ctl, rn, job.ID, domainID)
	took := time.Since(start)
	if status != "SUCCESS" {
		// Printed as spacectl gives them: the job's and its tasks' errors hold the word ERROR.
		t.Fatalf("collect job %s ended %s:\n%s\nits tasks:\n%s", job.ID, status,
			ctl.run(t, "exec", "get", "inventory.Job", "-p", "job_id="+job.ID, "-p", "domain_id="+domainID, "-o", "json"),
			ctl.run(t, "list", "inventory.JobTask", "-p", "job_id="+job.ID, "-p", "domain_id="+domainID, "-o", "json"))
	}
	t.Logf("collect job %s: %s in %s (request to resources in inventory; the plugin was running)", job.ID, status, took.Round(100*time.Millisecond))

	// What inventory now holds is what the plugin made of the secret data and the options.
	var services struct {
		Results []struct {
			Name       string         `json:"name"`
			RegionCode string         `json:"region_code"`
			Account    string         `json:"account"`
			Data       map[string]any `json:"data"`
		} `json:"results"`
	}
	spacectlJSON(t, ctl, &services, "list", "inventory.CloudService", "-p", "provider="+fakeCloudProvider, "-p", "domain_id="+domainID)
	sum := sha256.Sum256([]byte(accessKey))
	fingerprint := hex.EncodeToString(sum[:])[:16]
	var want, got []string
	for _, r := range fakeCloudRegions {
		for i := range 2 {
			want = append(want, fmt.Sprintf("%s-%s-vm-%d", account, r, i))
		}
	}
	for _, s := range services.Results {
		got = append(got, s.Name)
		if s.Data["key_fingerprint"] != fingerprint || s.Account != account {
			t.Errorf("cloud service %s: fingerprint %v, account %q; want %s (of the secret's key) and %q", s.Name, s.Data["key_fingerprint"], s.Account, fingerprint, account)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("inventory.CloudService of %s: %v, want %v", fakeCloudProvider, got, want)
	}
	// The instance type all regions share: stored once, though every task's instances name it.
	var types struct {
		Results []struct {
			Name string `json:"name"`
		} `json:"results"`
	}
	spacectlJSON(t, ctl, &types, "list", "inventory.CloudServiceType", "-p", "provider="+fakeCloudProvider, "-p", "domain_id="+domainID)
	if len(types.Results) != 1 {
		t.Errorf("inventory.CloudServiceType of %s: %+v, want the one instance type", fakeCloudProvider, types.Results)
	}
	var regions struct {
		Results []struct {
			RegionCode string `json:"region_code"`
		} `json:"results"`
	}
	spacectlJSON(t, ctl, &regions, "list", "inventory.Region", "-p", "provider="+fakeCloudProvider, "-p", "domain_id="+domainID)
	if len(regions.Results) != len(fakeCloudRegions) {
		t.Errorf("inventory.Region of %s: %+v, want %v", fakeCloudProvider, regions.Results, fakeCloudRegions)
	}
	t.Logf("collected: %d cloud services %v, %d regions; each holds the fingerprint of the secret's key", len(got), got, len(regions.Results))

	// The plugin ran once, and its log holds what it did but not the secret.
	for name, log := range rn.podLogs(t, pluginNS, deployment) {
		if strings.Contains(log, accessKey) {
			t.Errorf("%s: the plugin's log holds the secret's access key", name)
		}
		if !strings.Contains(log, "[collect]") {
			t.Errorf("%s: the plugin's log shows no collect call:\n%s", name, tail(log, 10))
		}
	}
	pods := list(t, api(t).CoreV1().Pods(pluginNS).List, "plugin_id="+fakeCloudPlugin).Items
	if len(pods) == 0 {
		t.Error("no plugin pod")
	}
	for _, pod := range pods {
		for _, c := range pod.Status.ContainerStatuses {
			if c.RestartCount != 0 {
				t.Errorf("plugin pod %s restarted %d times", pod.Name, c.RestartCount)
			}
		}
	}

	logSupervisorCalls(t, rn)

	// Deleting the collector leaves the plugin running, as upstream does: the plugin service
	// keeps an installed plugin until its cleanup scheduler finds it unused (7 days).
	ctl.run(t, "exec", "delete", "inventory.Collector", "-p", "collector_id="+created.ID, "-p", "domain_id="+domainID)
	if !exists(t, api(t).AppsV1().Deployments(pluginNS).Get, deployment) || !exists(t, api(t).CoreV1().Services(pluginNS).Get, service) {
		t.Errorf("after the collector's deletion the plugin's Deployment %s or Service %s is gone", deployment, service)
	}
}

// checkSupervisorRunsThePlugin: the supervisor, with its own account, created the plugin's
// Deployment and Service in the plugin namespace, for the image of the registry.
func checkSupervisorRunsThePlugin(t *testing.T, rel realRelease) (deployment, service string) {
	t.Helper()
	selector := "plugin_id=" + fakeCloudPlugin
	_, image, _ := fakeCloudImages(t, rel)
	// Pulumi's field manager is the program's; anything else that wrote it is the supervisor's client.
	writers := func(name string, fields []metav1.ManagedFieldsEntry) []string {
		var managers []string
		for _, m := range fields {
			managers = append(managers, m.Manager)
		}
		if len(managers) == 0 || strings.Contains(strings.Join(managers, " "), "pulumi") {
			t.Errorf("%s was written by %v, not only by the supervisor's Kubernetes client", name, managers)
		}
		return managers
	}
	for _, d := range list(t, api(t).AppsV1().Deployments(pluginNS).List, selector).Items {
		deployment = d.Name
		managers := writers(d.Name, d.ManagedFields)
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			t.Errorf("plugin Deployment %s runs %s, want %s", deployment, got, image)
		}
		t.Logf("the supervisor created Deployment %s (labels %v, image %s, written by %v)", deployment, d.Labels, image, managers)
	}
	for _, svc := range list(t, api(t).CoreV1().Services(pluginNS).List, selector).Items {
		service = svc.Name
		t.Logf("the supervisor created Service %s (clusterIP %s, written by %v)", service, svc.Spec.ClusterIP, writers(svc.Name, svc.ManagedFields))
	}
	if deployment == "" || service == "" || !strings.HasPrefix(deployment, fakeCloudPlugin+"-") {
		t.Fatalf("the plugin namespace lacks the plugin's Deployment and Service:\n%s", mustKubectl(t, "-n", pluginNS, "get", "all"))
	}
	return deployment, service
}

// waitJob polls a collect job until it ends (SUCCESS, FAILURE, ERROR, CANCELED, TIMEOUT).
func waitJob(t *testing.T, ctl *spacectlEnv, rn *realNode, jobID, domainID string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var job struct {
			Status string `json:"status"`
		}
		spacectlJSON(t, ctl, &job, "exec", "get", "inventory.Job", "-p", "job_id="+jobID, "-p", "domain_id="+domainID)
		switch job.Status {
		case "SUCCESS", "FAILURE", "ERROR", "CANCELED", "TIMEOUT":
			return job.Status
		}
		if time.Now().After(deadline) {
			// what the worker and the plugin logged, for whoever reads a red run
			var tasks any
			spacectlJSON(t, ctl, &tasks, "list", "inventory.JobTask", "-p", "job_id="+jobID, "-p", "domain_id="+domainID)
			var logs []string
			for _, prefix := range []string{"inventory-worker-", "inventory-"} {
				for name, text := range rn.podLogs(t, spaceoneNS, prefix) {
					logs = append(logs, name+":\n"+tail(text, 15))
				}
			}
			for name, text := range rn.podLogs(t, pluginNS, "") {
				logs = append(logs, name+":\n"+tail(text, 15))
			}
			t.Fatalf("collect job %s still %s after 5 minutes; its tasks: %v\n%s", jobID, job.Status, tasks, strings.Join(logs, "\n"))
		}
		time.Sleep(2 * time.Second)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	must(t, err)
	return hex.EncodeToString(b)
}

// logSupervisorCalls logs what the supervisor's sync (every 20 s) costs the plugin service:
// its requests per minute, counted in the plugin service's own request log (python-core logs
// "(REQUEST)" with the method of every call); bench/plugins.md keeps the figures.
func logSupervisorCalls(t *testing.T, rn *realNode) {
	t.Helper()
	counts := map[string]int{}
	var first, last time.Time
	for _, text := range rn.podLogs(t, spaceoneNS, "plugin-") {
		for _, line := range grepLines(text, "(REQUEST)") {
			if len(line) < 24 {
				continue
			}
			at, err := time.Parse("2006-01-02T15:04:05.000Z", line[:24])
			if err != nil {
				continue
			}
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
			for _, f := range strings.Fields(line) {
				if strings.Contains(f, ".") && (strings.HasPrefix(f, "Supervisor.") || strings.HasPrefix(f, "Plugin.")) {
					counts[f]++
				}
			}
		}
	}
	minutes := last.Sub(first).Minutes()
	if minutes <= 0 {
		t.Logf("the plugin service logged no requests to count")
		return
	}
	var b strings.Builder
	for _, m := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, " %s %d (%.1f/min)", m, counts[m], float64(counts[m])/minutes)
	}
	t.Logf("requests to the plugin service over %.1f min:%s", minutes, b.String())
}
