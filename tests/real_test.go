package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/supervisor"
)

// The admin password has a `"` and a `\`: spacectl renders values raw into JSON, so this
// proves the initializer escapes them.
const (
	realAdminPassword  = `Real"Adm1n\pass`
	realAdminPassword2 = `Second"Adm1n\pw`
)

// setSecret sets a secret config value, given on stdin so it appears in no command line or log.
func (p *project) setSecret(t *testing.T, key, value string) {
	t.Helper()
	cmd := exec.Command("pulumi", "config", "set", "--secret", key, "--stack", p.stack, "--non-interactive")
	cmd.Dir, cmd.Env, cmd.Stdin = p.dir, p.env, strings.NewReader(value)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pulumi config set --secret %s: %v\n%s", key, err, out)
	}
}

// realDomain is not "root": identity creates SYSTEM roles only in the domain its
// ROOT_DOMAIN_NAME names, so this proves the platform sets it from spaceone:domain.
const realDomain = "acme"

func realStackConfig(t *testing.T, rel realRelease) string {
	cfg := strings.Replace(simStackConfig(), "  spaceone:release: "+simRelease+"\n", "", 1)
	if !rel.consul { // a release without Consul refuses settings for it
		cfg = strings.Replace(cfg, "    consul: {size: 1Gi}\n", "", 1)
	}
	if rel.plugins {
		cfg += pluginStackConfig(t, rel)
	}
	if rel.laterOnByDefault() { // off until the test enables it on the running platform
		cfg += "  spaceone:services: {" + rel.later + ": {enabled: false}}\n"
	}
	return cfg + "  spaceone:console: {enabled: false}\n  spaceone:domain: " + realDomain + "\n" +
		"  spaceone:release: " + rel.version + "\n"
}

// A release as the real first install runs it: its catalogue version names its Python
// environment (scripts/runtimes/requirements-<version>.txt), and how its API key reaches the
// token consumers decides how the test reads it back.
type realRelease struct {
	version string
	consul  bool // the key goes through Consul (else: the Secret spaceone-api-key)
	plugins bool // the test plugin is in the stack's plugins, and collects
	// later is a service with a database that the stack runs without at first and enables
	// on the running platform (one the release leaves off, or one the stack switches off).
	later string
}

// laterOnByDefault reports whether the release's catalogue enables the later service itself.
func (rel realRelease) laterOnByDefault() bool {
	r, err := catalog.Load(rel.version)
	return err == nil && r.Services[rel.later] != nil && r.Services[rel.later].EnabledByDefault()
}

// TestRealFirstInstall installs SpaceONE 1.10.4 for real: `pulumi up` on the sim with every
// pod run by the real node as SpaceONE's own code (tests/realnode), then logs in.
func TestRealFirstInstall(t *testing.T) {
	realFirstInstall(t, realRelease{version: "1.10.4", consul: true, plugins: true, later: "cost-analysis"})
}

// TestRealFirstInstall112 is the same for 1.12.12, with 1.12's own packages: no Consul, the key
// handed over in a Kubernetes Secret.
func TestRealFirstInstall112(t *testing.T) {
	realFirstInstall(t, realRelease{version: "1.12.12", plugins: true, later: "board"})
}

func realFirstInstall(t *testing.T, rel realRelease) {
	needSim(t)
	rn := startRealNode(t)
	exp := expect(t, rel.version).without(rel.later)
	p := newProject(t, "real", realStackConfig(t, rel))
	p.setSecret(t, "adminPassword", realAdminPassword)

	// 1. up returns only once the initializer has really succeeded and the consumers are ready.
	start := time.Now()
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up: %v\n%s", err, tail(out, 60))
	}
	t.Logf("real first install: pulumi up took %s; %d processes, %d MiB resident in all", time.Since(start).Round(time.Second), len(rn.processes(t)), rn.rssMiB(t))
	logRSSByPod(t, rn)

	var restarted []string
	for _, pod := range list(t, api(t).CoreV1().Pods("").List, "").Items {
		for _, c := range pod.Status.ContainerStatuses {
			if c.RestartCount != 0 {
				restarted = append(restarted, fmt.Sprintf("%s=%d", pod.Name, c.RestartCount))
			}
		}
	}
	t.Logf("restarts during the first install: %d pods restarted %v", len(restarted), restarted)
	// Everything but the initializer and the token consumers starts at once with the stores
	// (the start order): that is right only if no process restarts or fails for want of a
	// store or a peer that is not up yet.
	if len(restarted) > 0 {
		t.Errorf("pods restarted during the first install: %v", restarted)
	}
	checkNoStartFailures(t, rn)
	// No store phones home: Consul's update check (seen failing here, ~10 s after its start,
	// before -hcl=disable_update_check).
	for name, text := range rn.podLogs(t, spaceoneNS, "consul-0") { // none without Consul
		if strings.Contains(text, "check for updates") {
			t.Errorf("%s: Consul tried to check for updates on the internet", name)
		}
	}

	// 2. spacectl finished every task of a first install, with no error.
	finished := initializerFinished(t, rn, initializer.ModeFirst)
	t.Logf("initializer: %s", finished)

	// 3. the admin logs in through identity; a wrong password is refused.
	ctl := newSpacectl(t, rn, rel.version, clusterEndpoints(t, exp.Services))
	domainID := rootDomainID(t, ctl)
	token := login(t, ctl, domainID, realAdminPassword)
	if bad := ctl.run(t, loginArgs(domainID, "Wrong-Passw0rd!")...); strings.Contains(bad, "access_token") {
		t.Fatalf("a wrong password was accepted:\n%s", bad)
	}

	// 4. one authenticated call per service the catalogue enables, through its Service (and a
	//    bad token is refused, so the check below can fail).
	ctl.run(t, "config", "set", "api_key", "not-a-token")
	if out := ctl.run(t, "list", "identity.User", "-o", "json"); !strings.Contains(out, "ERROR") {
		t.Fatalf("a call with a bad token was not refused:\n%s", out)
	}
	ctl.run(t, "config", "set", "api_key", token)
	for _, svc := range exp.Services {
		res := exp.release.Services[svc].AuthenticatedCall // the catalogue requires one
		// spacectl prints nothing for an empty list and "ERROR: ..." when the call fails
		// (a refused token, an unreachable peer, a database error).
		out := strings.TrimSpace(ctl.run(t, "list", res, "-o", "json"))
		if strings.Contains(out, "ERROR") || out != "" && !json.Valid([]byte(out)) {
			t.Errorf("%s: spacectl list %s failed:\n%s", svc, res, out)
		}
	}

	// Logs are readable the usual way too (kubectl logs, through the node's kubelet API).
	if out := mustKubectl(t, "-n", spaceoneNS, "logs", "deployment/identity"); !strings.Contains(out, "Start gRPC Server") {
		t.Errorf("kubectl logs of identity lacks python-core's start line:\n%s", tail(out, 10))
	}

	// 5. every token consumer holds the key.
	key := rel.handedKey(t)
	if key == "" {
		t.Fatal("the initializer handed over no API key")
	}
	rel.checkConsumers(t, rn, exp, key)
	checkSupervisorRegistered(t, ctl, domainID)
	if len(exp.release.TokenReady.Command) > 0 { // 1.10.4: Ready once the key is held
		t.Run("TokenReadinessSurvivesLogRotation", func(t *testing.T) { checkTokenReadinessSurvivesLogRotation(t, rn, exp) })
	}

	// 5b. SpaceONE does its job: a collector of the plugin up registered collects, run by the
	//     supervisor in the plugin namespace.
	if rel.plugins {
		t.Run("PluginCollects", func(t *testing.T) { checkPluginCollects(t, ctl, rn, rel, domainID) })
	}

	// 6. no log and no ConfigMap holds the admin password or the API key.
	checkNoSecretLeaks(t, rn, []string{realAdminPassword, key, token})

	// 7. a second up changes nothing; a new admin password re-runs the initializer (mode
	//    "again"), which sets it and creates no duplicate, and keeps the key.
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes")
	p.setSecret(t, "adminPassword", realAdminPassword2)
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up with a new admin password: %v\n%s", err, tail(out, 60))
	}
	t.Logf("initializer, run again: %s", initializerFinished(t, rn, initializer.ModeAgain))
	login(t, ctl, domainID, realAdminPassword2)
	if old := ctl.run(t, loginArgs(domainID, realAdminPassword)...); strings.Contains(old, "access_token") {
		t.Error("the old admin password still logs in after the change")
	}
	if k := rel.handedKey(t); k != key {
		t.Error("re-running the initializer rotated the API key")
	}
	for res, match := range map[string]string{"identity.User": "user_id=root_api_key", "identity.Policy": "name=System Full Access", "identity.Role": "name=System Admin"} {
		out := ctl.run(t, "list", res, "-p", match, "-p", "domain_id="+domainID, "-o", "json")
		if n := countField(out, "total_count"); n != 1 {
			t.Errorf("%s %s: %d after a second initializer run, want 1:\n%s", res, match, n, out)
		}
	}
	checkNoSecretLeaks(t, rn, []string{realAdminPassword2, key})

	// 7b. asked for (initializer.rotateApiKey), a run makes a new key, hands it over, disables
	//     the old one and restarts the consumers, which then hold the new key.
	rotated := rel.upForNewKey(t, p, rn, exp, "2026-12-01", initializer.ModeRotate, key)
	checkKeyReplaced(t, ctl, domainID, key, rotated)
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes") // rotated once, not on every up
	checkNoSecretLeaks(t, rn, []string{realAdminPassword2, key, rotated})

	// 7c. the key lost where the release keeps it (a Secret deleted, Consul emptied) and a
	//     consumer restarted: a plain up finds it, runs the initializer, which finds the root
	//     domain without a working key, logs in as its owner and hands over a new key.
	var rekeyed string
	if !t.Run("HealLostKey", func(t *testing.T) { rekeyed = rel.healLostKey(t, p, rn, exp, ctl, domainID, rotated) }) {
		t.FailNow()
	}
	if rekeyed == "" { // not run: -run chose other subtests, and the steps below need its key
		t.Log("HealLostKey was not run (-run): the steps after it need the key it makes; stopping here")
		return
	}
	checkNoSecretLeaks(t, rn, []string{realAdminPassword2, rekeyed})

	// 8. the developer loop, both ways: a service on the laptop calls the cluster; the cluster
	//    and a second laptop service call a service routed to the laptop (localServices).
	token = login(t, ctl, domainID, realAdminPassword2)
	t.Run("LaptopServiceCallsTheCluster", func(t *testing.T) { checkLaptopService(t, p, rn, rel, token) })
	t.Run("ClusterCallsLaptopService", func(t *testing.T) { checkClusterCallsLaptop(t, p, rn, rel, exp, token) })

	// 8b. a service enabled on the running platform gets its database user.
	t.Run("ServiceEnabledLaterGetsItsDatabaseUser", func(t *testing.T) { checkServiceEnabledLater(t, p, rn, rel, exp, token) })

	// 8c. what a backup holds comes back: data, a backup, the platform and its stores' volumes
	//     destroyed, a new platform that restores the backup.
	t.Run("BackupDestroyRestore", func(t *testing.T) { checkBackupRestore(t, p, rn, rel, exp, ctl, domainID, realAdminPassword2) })

	// 9. destroy leaves no object and no process.
	p.run(t, "destroy", "--yes", "--skip-preview")
	for _, ns := range []string{spaceoneNS, pluginNS} {
		if exists(t, api(t).CoreV1().Namespaces().Get, ns) {
			t.Errorf("after destroy, namespace %s is still there", ns)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(rn.processes(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	if ps := rn.processes(t); len(ps) > 0 {
		t.Errorf("after destroy, processes are still running:\n%s", strings.Join(ps, "\n"))
	}
}

var finishedLine = regexp.MustCompile(`FINISHED \[ ok=(\d+), skipped=(\d+) \]`)

// initializerFinished checks the last initializer run's log: spacectl's FINISHED line with
// every task of the mode done, no ERROR, and the mode's own closing line.
func initializerFinished(t *testing.T, rn *realNode, mode initializer.Mode) string {
	t.Helper()
	logs := rn.podLogs(t, spaceoneNS, "initializer-")
	var last string
	var newest time.Time
	for name, text := range logs {
		if !strings.Contains(text, "spaceone initializer: done ("+string(mode)+")") {
			continue
		}
		if fi := statLog(rn, name); fi.After(newest) {
			newest, last = fi, text
		}
	}
	if last == "" {
		var all []string
		for n, l := range logs {
			all = append(all, n+":\n"+tail(l, 30))
		}
		t.Fatalf("no initializer run finished in mode %s; logs:\n%s", mode, strings.Join(all, "\n"))
	}
	if strings.Contains(last, "ERROR") {
		t.Errorf("initializer log holds an ERROR:\n%s", last)
	}
	m := finishedLine.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("initializer log has no FINISHED line:\n%s", last)
	}
	return m[0]
}

// clusterEndpoints maps each of services to the ClusterIP of the Service of its name (the
// test runs beside the real node, where every ClusterIP is served); a service without its
// Service is an error, and is left out.
func clusterEndpoints(t *testing.T, services []string) map[string]string {
	t.Helper()
	eps := map[string]string{}
	for _, svc := range services {
		s, err := api(t).CoreV1().Services(spaceoneNS).Get(t.Context(), svc, metav1.GetOptions{})
		if err != nil || s.Spec.ClusterIP == "" || !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool {
			return p.Name == "grpc" && p.Port == catalog.GRPCPort
		}) {
			t.Errorf("service %s has no Service %s with a grpc port %d, which every config names: %v", svc, svc, catalog.GRPCPort, err)
			continue
		}
		eps[svc] = fmt.Sprintf("grpc://%s:%d", s.Spec.ClusterIP, catalog.GRPCPort)
	}
	return eps
}

func rootDomainID(t *testing.T, ctl *spacectlEnv) string {
	t.Helper()
	out := ctl.run(t, "list", "identity.Domain", "-p", "name="+realDomain, "-o", "json")
	m := regexp.MustCompile(`"domain_id":\s*"([^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no root domain:\n%s", out)
	}
	return m[1]
}

func loginArgs(domainID, password string) []string {
	creds, _ := json.Marshal(map[string]any{"credentials": map[string]string{"password": password}})
	return []string{"exec", "issue", "identity.Token", "-p", "user_id=admin", "-p", "user_type=DOMAIN_OWNER",
		"-p", "domain_id=" + domainID, "-j", string(creds), "-o", "json"}
}

// login issues the admin's token through identity (what console-api does at the login page).
func login(t *testing.T, ctl *spacectlEnv, domainID, password string) string {
	t.Helper()
	out := ctl.run(t, loginArgs(domainID, password)...)
	m := regexp.MustCompile(`"access_token":\s*"([^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("login as admin failed:\n%s", out)
	}
	return m[1]
}

// handedKey is the API key the initializer handed to the token consumers, where the
// release puts it.
func (rel realRelease) handedKey(t *testing.T) string {
	t.Helper()
	if rel.consul {
		return consulKey(t)
	}
	var keys []string
	for _, ns := range []string{spaceoneNS, pluginNS} {
		file := get(t, api(t).CoreV1().Secrets(ns).Get, apikey.SecretName).Data[apikey.FileName]
		if len(file) == 0 {
			return ""
		}
		m := regexp.MustCompile(`(?m)^TOKEN: (\S+)$`).FindSubmatch(file)
		if m == nil {
			t.Fatalf("secret %s/%s holds no TOKEN", ns, apikey.SecretName)
		}
		keys = append(keys, string(m[1]))
	}
	if keys[0] != keys[1] {
		t.Fatal("the key Secrets of the two namespaces hold different keys")
	}
	return keys[0]
}

// checkConsumers checks that every token consumer the catalogue names holds key, the
// release's way.
func (rel realRelease) checkConsumers(t *testing.T, rn *realNode, exp expected, key string) {
	t.Helper()
	if rel.consul {
		checkConsumersHoldKey(t, rn, exp)
		return
	}
	checkConsumersImportKey(t, rn, rel.version, key, exp)
}

// upForNewKey sets initializer.rotateApiKey to rotation, runs up, and checks that the
// initializer ran in mode, handed over a key other than previous, and that the consumers
// hold it. It returns the new key.
func (rel realRelease) upForNewKey(t *testing.T, p *project, rn *realNode, exp expected, rotation string, mode initializer.Mode, previous string) string {
	t.Helper()
	p.run(t, "config", "set", "--path", "initializer.rotateApiKey", rotation)
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up for a new key (mode %s): %v\n%s", mode, err, tail(out, 60))
	}
	t.Logf("initializer, mode %s: %s", mode, initializerFinished(t, rn, mode))
	key := rel.handedKey(t)
	if key == "" || key == previous {
		t.Fatalf("the initializer (mode %s) handed over no new key", mode)
	}
	rel.checkConsumers(t, rn, exp, key)
	return key
}

// checkKeyReplaced checks, logged in with current, that identity has disabled replaced and
// accepts current (1.12 refuses a disabled key on each call once python-core's 300 s cache of
// the key's state expires; 1.10.4 checks no key state).
func checkKeyReplaced(t *testing.T, ctl *spacectlEnv, domainID, replaced, current string) {
	t.Helper()
	ctl.run(t, "config", "set", "api_key", current)
	if out := ctl.run(t, "get", "identity.APIKey", "-p", "api_key_id="+apiKeyID(t, replaced), "-p", "domain_id="+domainID, "-o", "json"); !regexp.MustCompile(`"state":\s*"DISABLED"`).MatchString(out) {
		t.Errorf("the replaced API key is not disabled:\n%s", tail(out, 10))
	}
	if out := ctl.run(t, "list", "identity.User", "-p", "domain_id="+domainID, "-o", "json"); strings.Contains(out, "ERROR") || !strings.Contains(out, "root_api_key") {
		t.Errorf("the new API key is refused:\n%s", tail(out, 5))
	}
}

// healLostKey loses the key where the release keeps it (1.12: the services' Secret deleted,
// the supervisor's emptied; 1.10.4: Consul's key deleted), restarts a token consumer as a
// node drain would, and runs a plain up: it says what it found, the initializer runs in its
// rekey mode, a new key reaches every consumer, the lost one is disabled, and the next up
// changes nothing. While the Secret is gone the consumer's pod waits (FailedMount) instead of
// being replaced again and again, and `preview --refresh` returns at once naming the consumer
// and the lost key. Then the key is lost again and `up --refresh` repairs it the same way,
// within a bound. It returns the last new key.
func (rel realRelease) healLostKey(t *testing.T, p *project, rn *realNode, exp expected, ctl *spacectlEnv, domainID, lost string) string {
	t.Helper()
	consumer := rel.loseKey(t)
	time.Sleep(10 * time.Second)
	if pods := podsOf(t, consumer); len(pods) != 1 {
		t.Errorf("%s has %d pods 10 s after its restart with the key gone, want 1 (no churn): %v", consumer, len(pods), pods)
	}
	if !rel.consul {
		events, err := api(t).CoreV1().Events(consumer.ns).List(t.Context(), metav1.ListOptions{FieldSelector: "reason=FailedMount"})
		must(t, err)
		if !slices.ContainsFunc(events.Items, func(e corev1.Event) bool { return strings.Contains(e.Message, apikey.SecretName) }) {
			t.Errorf("no FailedMount event names the missing Secret: %+v", events.Items)
		}
	}
	found := "is gone"
	if rel.consul {
		found = "Consul holds no API key"
	}
	// A refresh of the broken platform returns at once, and says what is not ready (the
	// provider: the consumer's Deployment) and why (the program: the key is gone).
	out, err := p.tryWithin(t, 3*time.Minute, "preview", "--refresh")
	if err != nil {
		t.Fatalf("preview --refresh on the platform without its key: %v\n%s", err, tail(out, 30))
	}
	for _, want := range []string{"Refreshed resource is in an unhealthy state", "Resource '" + consumer.name + "' was created but failed to initialize", found} {
		if !strings.Contains(out, want) {
			t.Errorf("preview --refresh does not say %q:\n%s", want, tail(out, 30))
		}
	}
	out, err = p.try(t, "up", "--yes", "--skip-preview")
	if err != nil {
		t.Fatalf("a plain up on the platform without its key: %v\n%s\n%s", err, strings.Join(grepLines(out, "rror"), "\n"), tail(out, 20))
	}
	if !strings.Contains(out, found) || !strings.Contains(out, "makes a new API key") {
		t.Errorf("up does not say what it found and did (want %q and %q):\n%s", found, "makes a new API key", tail(out, 30))
	}
	t.Logf("initializer, run by a plain up: %s", initializerFinished(t, rn, initializer.ModeRekey))
	key := rel.handedKey(t)
	if key == "" || key == lost {
		t.Fatal("the plain up handed over no new key")
	}
	rel.checkConsumers(t, rn, exp, key)
	checkKeyReplaced(t, ctl, domainID, lost, key)                    // the lost key worked in identity until now
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes") // repaired once, not on every up

	// Lost again, `up --refresh` repairs it the same way, and returns (it hung for minutes
	// before up repaired the key and while the node let the consumer's pod fail and churn).
	rel.loseKey(t)
	out, err = p.tryWithin(t, 5*time.Minute, "up", "--refresh", "--yes", "--skip-preview")
	if err != nil {
		t.Fatalf("up --refresh on the platform without its key: %v\n%s\n%s", err, strings.Join(grepLines(out, "rror"), "\n"), tail(out, 20))
	}
	if !strings.Contains(out, found) || !strings.Contains(out, "makes a new API key") {
		t.Errorf("up --refresh does not say what it found and did (want %q and %q):\n%s", found, "makes a new API key", tail(out, 30))
	}
	again := rel.handedKey(t)
	if again == "" || again == key {
		t.Fatal("up --refresh handed over no new key")
	}
	rel.checkConsumers(t, rn, exp, again)
	checkKeyReplaced(t, ctl, domainID, key, again)
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes")
	return again
}

// loseKey removes the key where the release keeps it (1.12: one Secret deleted, its copy
// emptied; 1.10.4: Consul's key deleted) and restarts a consumer, as after a node drain; it
// returns that consumer.
func (rel realRelease) loseKey(t *testing.T) workload {
	t.Helper()
	if rel.consul {
		deleteConsulKey(t)
	} else {
		mustKubectl(t, "-n", spaceoneNS, "delete", "secret", apikey.SecretName)
		mustKubectl(t, "-n", pluginNS, "patch", "secret", apikey.SecretName, "--type", "merge", "-p", `{"data":null}`)
	}
	consumer := workload{spaceoneNS, "inventory-scheduler"}
	mustKubectl(t, "-n", consumer.ns, "delete", "pod", "-l", kube.NameLabel+"="+consumer.name, "--wait=false")
	return consumer
}

// deleteConsulKey removes the handed-over key from Consul (1.10.4's hand-off).
func deleteConsulKey(t *testing.T) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, consulKV(t, path.Dir(microservice.TokenKeyPath))+"?recurse=true", nil)
	must(t, err)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if k := consulKey(t); k != "" {
		t.Fatal("the key is still in Consul")
	}
}

// consulKey is the API key the initializer put into Consul.
func consulKey(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(consulKV(t, microservice.TokenKeyPath) + "?raw")
	if err != nil {
		t.Fatalf("reading the key from Consul: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// checkConsumersHoldKey: every process that reads the key (TOKEN_INFO) at start, the
// catalogue's token consumers (1.10.4: the enabled schedulers that read it) and the supervisor,
// logged that it holds it; python-core's schedulers log "[_validate_token] token: <first 30
// characters>" once Consul gave it. (1.10.4's workers read no key: they get it with each task;
// the gRPC servers read it on their first task.)
func checkConsumersHoldKey(t *testing.T, rn *realNode, exp expected) {
	t.Helper()
	for _, w := range exp.Consumers {
		pods := podsOf(t, w)
		if len(pods) == 0 {
			t.Errorf("token consumer %s has no pod", w)
		}
		for _, pod := range pods {
			var all string
			for _, l := range rn.podLogs(t, w.ns, pod) {
				all += l
			}
			held := grepLines(all, "[_validate_token] token: ")
			if len(held) == 0 {
				t.Errorf("token consumer %s/%s did not log that it holds the key:\n%s", w.ns, pod, tail(all, 20))
				continue
			}
			t.Logf("token consumer %s/%s holds the key: %s", w.ns, pod, strings.TrimSpace(held[0]))
		}
	}
}

// livePods lists a namespace's pods with a label selector ("" for all), but those already
// stopping (a previous rollout's).
func livePods(t *testing.T, ns, selector string) []corev1.Pod {
	t.Helper()
	var live []corev1.Pod
	for _, it := range list(t, api(t).CoreV1().Pods(ns).List, selector).Items {
		if it.DeletionTimestamp == nil {
			live = append(live, it)
		}
	}
	return live
}

// podsOf lists the live pods of a workload, by its selector label.
func podsOf(t *testing.T, w workload) []string {
	t.Helper()
	var pods []string
	for _, it := range livePods(t, w.ns, kube.NameLabel+"="+w.name) {
		pods = append(pods, it.Name)
	}
	return pods
}

// checkNoSecretLeaks fails when any process log or ConfigMap holds one of the secrets.
func checkNoSecretLeaks(t *testing.T, rn *realNode, secrets []string) {
	t.Helper()
	cms := configMapTexts(t)
	logs := rn.allLogs(t)
	for i, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(cms, s) {
			t.Errorf("secret #%d is in a ConfigMap", i)
		}
		for name, text := range logs {
			if lines := grepLines(text, s); len(lines) > 0 {
				t.Errorf("secret #%d is in the log %s: %s", i, name, lines[0][:min(200, len(lines[0]))])
			}
		}
	}
}

func countField(out, field string) int {
	m := regexp.MustCompile(`"` + field + `":\s*(\d+)`).FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func statLog(rn *realNode, name string) time.Time {
	fi, err := os.Stat(rn.dir + "/logs/" + name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// startFailure is how python-core reports a failure: an ERROR or CRITICAL line naming its
// source file, or an exception. At a first install, a process that logged one had started
// before something it needed (Redis late: "[ERROR] (redis_queue.py:33) ... queue connection
// check"). The stores' own logs have other formats and are not read.
var startFailure = regexp.MustCompile(`\[(ERROR|CRITICAL)\].*\(\w+\.py:\d+\)|Traceback \(most recent call last\)`)

func checkNoStartFailures(t *testing.T, rn *realNode) {
	t.Helper()
	for path, text := range rn.allLogs(t) {
		n := 0
		lines := strings.Split(text, "\n")
		for i, line := range lines {
			if startFailure.MatchString(line) {
				if n++; n <= 3 {
					// python-core logs an exception's text on the lines after its own
					context := strings.Join(lines[i:min(i+4, len(lines))], "\n")
					t.Errorf("%s: a failure at the first install:\n%s", filepath.Base(path), context[:min(len(context), 800)])
				}
			}
		}
		if n > 3 {
			t.Errorf("%s: %d more", filepath.Base(path), n-3)
		}
	}
}

// keyConsumer is a pod that mounts the key's Secret, and the workload it belongs to.
type keyConsumer struct{ ns, name, workload string }

// listKeyConsumers lists the live pods that mount the key's Secret.
func listKeyConsumers(t *testing.T) []keyConsumer {
	t.Helper()
	var consumers []keyConsumer
	for _, ns := range []string{spaceoneNS, pluginNS} {
		for _, it := range livePods(t, ns, "") {
			for _, v := range it.Spec.Volumes {
				if v.Secret != nil && v.Secret.SecretName == apikey.SecretName {
					consumers = append(consumers, keyConsumer{ns, it.Name, it.Labels[kube.NameLabel]})
				}
			}
		}
	}
	return consumers
}

// consumerMismatch compares the pods that mount the key with the catalogue's consumers (one
// pod each): "" when they match, else what differs.
func consumerMismatch(pods []keyConsumer, exp expected) string {
	count := map[workload]int{}
	for _, c := range pods {
		count[workload{c.ns, c.workload}]++
	}
	var problems []string
	for _, w := range exp.Consumers {
		if count[w] != 1 {
			problems = append(problems, fmt.Sprintf("%s: %d pods mount the key, want 1", w, count[w]))
		}
		delete(count, w)
	}
	for w, n := range count {
		problems = append(problems, fmt.Sprintf("%s: %d pods mount the key, but it reads no key at start (catalogue tokenReady)", w, n))
	}
	sort.Strings(problems)
	return strings.Join(problems, "; ")
}

// checkConsumersImportKey: with the key in a Secret, each token consumer the catalogue names
// (and no other pod) mounts it, its container's config (read with kubectl exec) imports the
// key's file, that file in the container holds the key the initializer handed over, and its
// package declares TOKEN (python-core's set_global drops undeclared keys), so python-core
// loaded it. After a roll it waits (up to 60 s) for the previous pods to be gone.
func checkConsumersImportKey(t *testing.T, rn *realNode, venv, key string, exp expected) {
	t.Helper()
	var consumers []keyConsumer
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Second) {
		consumers = listKeyConsumers(t)
		if consumerMismatch(consumers, exp) == "" || time.Now().After(deadline) {
			break
		}
	}
	if problems := consumerMismatch(consumers, exp); problems != "" {
		t.Errorf("the pods that mount the key are not the catalogue's token consumers: %s", problems)
	}
	for _, c := range consumers {
		// Inside the consumer's container, as an operator would look (kubectl exec): the
		// config its process reads, and the key file that config imports.
		cfg, err := kubectl(t, "-n", c.ns, "exec", c.name, "--", "sh", "-c", `cat "$SPACEONE_CONFIG_FILE"`)
		if err != nil {
			t.Errorf("%s/%s: reading its config in the container: %v\n%s", c.ns, c.name, err, cfg)
			continue
		}
		imp := regexp.MustCompile(`file://(/\S+/token\.yaml)`).FindStringSubmatch(cfg)
		if imp == nil {
			t.Errorf("%s/%s: its config imports no key file:\n%s", c.ns, c.name, cfg)
			continue
		}
		file, err := kubectl(t, "-n", c.ns, "exec", c.name, "--", "cat", imp[1])
		if err != nil || !strings.Contains(file, "TOKEN: "+key) {
			t.Errorf("%s/%s: %s does not hold the handed-over key (%v)", c.ns, c.name, imp[1], err)
			continue
		}
		// The package its process runs, from the catalogue (the supervisor is not a service).
		pkg := supervisor.Package
		if s, ok := exp.release.Services[exp.release.Component(c.workload)]; ok {
			pkg = s.Package
		}
		py := filepath.Join(rn.venvs, venv, "bin/python")
		out, err := exec.Command(py, "-c", "import "+pkg+".conf.global_conf as g; print('TOKEN' in vars(g))").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "True" {
			t.Errorf("%s/%s: %s does not declare TOKEN, so python-core drops the key: %s %v", c.ns, c.name, pkg, out, err)
			continue
		}
		t.Logf("token consumer %s/%s (%s) imports the key from %s", c.ns, c.name, pkg, imp[1])
	}
}

// checkSupervisorRegistered: the supervisor uses the key for real: its sync task (every 20 s,
// with the key as its token) registers it with the plugin service in the root domain.
func checkSupervisorRegistered(t *testing.T, ctl *spacectlEnv, domainID string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out := ctl.run(t, "list", "plugin.Supervisor", "-p", "domain_id="+domainID, "-o", "json")
		if regexp.MustCompile(`"name":\s*"root"`).MatchString(out) {
			t.Logf("the supervisor registered with plugin using the handed-over key")
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the supervisor did not register with plugin in 90 s (it syncs with the key every 20 s):\n%s", tail(out, 20))
			return
		}
		time.Sleep(5 * time.Second)
	}
}

// logRSSByPod logs each pod's resident memory, largest first (the figures the catalogue's
// memory requests follow; README "Releases").
func logRSSByPod(t *testing.T, rn *realNode) {
	byPod := rn.rssByPod(t)
	pods := make([]string, 0, len(byPod))
	for p := range byPod {
		pods = append(pods, p)
	}
	sort.Slice(pods, func(i, j int) bool { return byPod[pods[i]] > byPod[pods[j]] })
	var b strings.Builder
	for _, p := range pods {
		fmt.Fprintf(&b, "  %-48s %5d MiB\n", p, byPod[p]/1024)
	}
	t.Logf("resident memory by pod:\n%s", b.String())
}

// apiKeyID is the api_key_id claim of an API key (a JWT; its payload is not secret).
func apiKeyID(t *testing.T, key string) string {
	t.Helper()
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		t.Fatal("the API key is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var claims struct {
		ID string `json:"api_key_id"`
	}
	must(t, json.Unmarshal(b, &claims))
	return claims.ID
}

// consulKV is the URL of a key in the in-cluster Consul's KV store, through its Service.
func consulKV(t *testing.T, key string) string {
	t.Helper()
	ip := get(t, api(t).CoreV1().Services(spaceoneNS).Get, "consul").Spec.ClusterIP
	return fmt.Sprintf("http://%s/v1/kv/%s", net.JoinHostPort(ip, strconv.Itoa(catalog.StorePorts["consul"])), key)
}
