package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
)

// laptop is a developer's machine beside the cluster: `make dev-connect` forwarding what runs
// in the cluster to localhost, and SpaceONE services started in one directory with the
// stack's devConfig (and, with the key in a Secret, the token.yaml the README says to copy).
type laptop struct {
	t       *testing.T
	rn      *realNode
	rel     realRelease
	dir     string
	configs map[string]string
}

// newLaptop starts dev-connect for the stack as it is now and reads its devConfig.
func newLaptop(t *testing.T, p *project, rn *realNode, rel realRelease) *laptop {
	t.Helper()
	l := &laptop{t: t, rn: rn, rel: rel, dir: t.TempDir()}
	connect := exec.Command(filepath.Join(root, "scripts/dev-connect.sh"), p.stack)
	connect.Dir, connect.Env = p.dir, append(p.env, "SPACEONE_PROJECT_DIR="+p.dir)
	fwdLog := l.run(connect, "dev-connect")
	waitPort(t, "127.0.0.1:50151", "dev-connect's forward of identity", fwdLog)

	out := p.run(t, "stack", "output", "devConfig", "--show-secrets", "--json")
	must(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &l.configs))
	if !rel.consul {
		// the key's readers import ./token.yaml, which a developer copies from the cluster as
		// the README says (dev-connect prints the command).
		tokenFile := get(t, api(t).CoreV1().Secrets(spaceoneNS).Get, apikey.SecretName).Data[apikey.FileName]
		must(t, os.WriteFile(filepath.Join(l.dir, apikey.FileName), tokenFile, 0o600))
	}
	return l
}

// run starts cmd in its own process group, logging to <name>.log in the laptop's directory,
// and stops the group when the test ends; it returns a reader of the log.
func (l *laptop) run(cmd *exec.Cmd, name string) (log func() string) {
	l.t.Helper()
	f, err := os.Create(filepath.Join(l.dir, name+".log"))
	must(l.t, err)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(l.t, cmd.Start())
	l.t.Cleanup(func() { stopGroup(cmd) })
	return func() string { b, _ := os.ReadFile(f.Name()); return string(b) }
}

// stopGroup ends a process started by laptop.run, with its children.
func stopGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	}
}

// service runs a SpaceONE service on the laptop on port, with its devConfig, and returns its
// log and the command (stopGroup stops it).
func (l *laptop) service(name string, port int) (func() string, *exec.Cmd) {
	l.t.Helper()
	cfg := filepath.Join(l.dir, name+".yaml")
	must(l.t, os.WriteFile(cfg, []byte(l.configs[name]), 0o600))
	pkg := "spaceone." + strings.ReplaceAll(name, "-", "_")
	cmd := exec.Command(filepath.Join(l.rn.venvs, l.rel.version, "bin/spaceone"), "grpc", pkg, "-c", cfg, "-p", strconv.Itoa(port))
	cmd.Dir = l.dir
	log := l.run(cmd, name)
	waitPort(l.t, fmt.Sprintf("127.0.0.1:%d", port), "the laptop's "+name, log)
	return log, cmd
}

// The laptop services' ports: below the kernel's ephemeral range (32768-60999), where an
// outgoing connection of the run may hold a port at the moment a service binds it (seen:
// "Failed to bind to address [::]:50298" in a CI run).
const laptopInventoryPort, laptopStatisticsPort = 29299, 29298

// checkLaptopService runs inventory as a developer would on a laptop: `make dev-connect`
// forwards the cluster's services and stores to localhost (kubectl port-forward, served by the
// real node), and `spaceone grpc spaceone.inventory` runs with the stack's devConfig. A list
// call to it must succeed, which takes identity (authentication) and MongoDB through the
// forwards.
func checkLaptopService(t *testing.T, p *project, rn *realNode, rel realRelease, token string) {
	l := newLaptop(t, p, rn, rel)
	svcLog, _ := l.service("inventory", laptopInventoryPort)
	ctl := newSpacectl(t, rn, rel.version, map[string]string{"inventory": fmt.Sprintf("grpc://127.0.0.1:%d", laptopInventoryPort)})
	ctl.run(t, "config", "set", "api_key", token)
	res := strings.TrimSpace(ctl.run(t, "list", "inventory.Region", "-o", "json"))
	if strings.Contains(res, "ERROR") || res != "" && !json.Valid([]byte(res)) {
		t.Fatalf("a call to inventory on the laptop failed:\n%s\nits log:\n%s", res, tail(svcLog(), 30))
	}
	if !strings.Contains(svcLog(), "Region.list") {
		t.Fatalf("the call did not reach the laptop's inventory; its log:\n%s", tail(svcLog(), 30))
	}
	t.Logf("laptop inventory (devConfig, dev-connect) answered Region.list, authenticated by the cluster's identity")
}

// statRegions is statistics' Resource.stat of inventory's regions: statistics calls
// inventory's Region.stat, so the call reaches whichever inventory statistics is wired to.
func statRegions(domainID string) []string {
	q, _ := json.Marshal(map[string]any{"aggregate": []any{map[string]any{"query": map[string]any{
		"resource_type": "inventory.Region",
		"query":         map[string]any{"aggregate": []any{map[string]any{"count": map[string]any{"name": "total"}}}},
	}}}})
	return []string{"exec", "stat", "statistics.Resource", "-p", "domain_id=" + domainID, "-j", string(q), "-o", "json"}
}

// regions runs statRegions and returns the count it answered (no row: none), failing the
// test with what went wrong otherwise.
func regions(t *testing.T, ctl *spacectlEnv, domainID, via string, logs ...func() string) int {
	t.Helper()
	out := ctl.run(t, statRegions(domainID)...)
	var answer struct {
		Results []struct{ Total *float64 }
	}
	if err := json.Unmarshal([]byte(out), &answer); err != nil || len(answer.Results) > 0 && answer.Results[0].Total == nil {
		var more string
		for _, l := range logs {
			more += "\n" + tail(l(), 20)
		}
		t.Fatalf("statistics (%s) could not stat inventory's regions (%v):\n%s%s", via, err, tail(out, 10), more)
	}
	if len(answer.Results) == 0 {
		return 0
	}
	return int(*answer.Results[0].Total)
}

// nodeHostAddress is where pods reach the machine the node runs on: the pods' gateway, the
// first address of the node's pod range (minikube's host.minikube.internal plays this part).
func nodeHostAddress(t *testing.T) string {
	t.Helper()
	cidr := get(t, api(t).CoreV1().Nodes().Get, realNodeName).Spec.PodCIDR
	prefix, err := netip.ParsePrefix(cidr)
	must(t, err)
	return prefix.Masked().Addr().Next().String()
}

// checkClusterCallsLaptop is the other direction of the developer loop: spaceone:localServices
// routes inventory to a process outside the cluster (on the address the node reaches the host
// on), and
//   - the cluster's statistics, asked by spacectl, calls it through inventory's Service;
//   - a second service on the laptop (statistics, with its devConfig) calls it directly;
//   - without the entry, up brings inventory back into the cluster, and the same call
//     succeeds there, on the data the laptop's inventory wrote.
func checkClusterCallsLaptop(t *testing.T, p *project, rn *realNode, rel realRelease, exp expected, token string) {
	const inventoryPort, statisticsPort = laptopInventoryPort, laptopStatisticsPort
	// spacectl beside the cluster, calling each service at its Service's address as it is now.
	cluster := func() *spacectlEnv {
		ctl := newSpacectl(t, rn, rel.version, clusterEndpoints(t, exp.Services))
		ctl.run(t, "config", "set", "api_key", token)
		return ctl
	}
	ctl := cluster()
	inventoryAddr := clusterEndpoints(t, []string{"inventory"})["inventory"]
	domainID := rootDomainID(t, ctl)
	before := regions(t, ctl, domainID, "in the cluster, before")

	laptopAddr := fmt.Sprintf("%s:%d", nodeHostAddress(t), inventoryPort)
	p.run(t, "config", "set", "--path", "localServices.inventory", laptopAddr)
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up routing inventory to the laptop: %v\n%s", err, tail(out, 40))
	}
	// Only the laptop behind the Service: no slice left with the departed pods' addresses.
	if got := sliceEndpoints(t, "inventory"); !slices.Equal(got, []string{laptopAddr}) {
		t.Errorf("inventory's EndpointSlices hold %v, want only the laptop's %s", got, laptopAddr)
	}
	if now := clusterEndpoints(t, []string{"inventory"})["inventory"]; now != inventoryAddr {
		t.Errorf("inventory's Service address changed from %s to %s: the cluster's callers hold the old one", inventoryAddr, now)
	}
	for _, d := range exp.workloadsOf("inventory") {
		if exists(t, api(t).AppsV1().Deployments(spaceoneNS).Get, d) {
			t.Errorf("%s still runs in the cluster although inventory runs on the laptop", d)
		}
	}
	l := newLaptop(t, p, rn, rel)
	if want := fmt.Sprintf("localhost:%d", inventoryPort); !strings.Contains(l.configs["statistics"], "grpc://"+want) {
		t.Errorf("statistics' devConfig does not call the laptop's inventory at %s:\n%s", want, l.configs["statistics"])
	}
	inventoryLog, inventory := l.service("inventory", inventoryPort)
	created := ctl.run(t, "exec", "create", "inventory.Region", "-p", "name=Laptop", "-p", "region_code=laptop-1", "-p", "provider=aws", "-p", "domain_id="+domainID, "-o", "json")
	if !strings.Contains(created, `"region_code": "laptop-1"`) {
		t.Fatalf("creating a region through inventory's Service (routed to the laptop) failed:\n%s\nlaptop inventory:\n%s", tail(created, 10), tail(inventoryLog(), 20))
	}
	if !strings.Contains(inventoryLog(), "Region.create") {
		t.Fatalf("inventory's Service did not send the call to the laptop; its log:\n%s", tail(inventoryLog(), 20))
	}

	// the cluster's statistics calls inventory by its Service name: the laptop answers.
	calls := func() int { return len(grepLines(inventoryLog(), "Region.stat")) }
	n0 := calls()
	if got := regions(t, ctl, domainID, "in the cluster", inventoryLog); got != before+1 {
		t.Errorf("the cluster's statistics counted %d regions through the laptop's inventory, want %d", got, before+1)
	}
	if calls() == n0 {
		t.Fatalf("the cluster's statistics did not reach the laptop's inventory; its log:\n%s", tail(inventoryLog(), 20))
	}
	t.Logf("the cluster's statistics called inventory on the laptop (localServices.inventory %s)", laptopAddr)

	// a second laptop service calls the first on the laptop, through its devConfig.
	statisticsLog, statistics := l.service("statistics", statisticsPort)
	laptopCtl := newSpacectl(t, rn, rel.version, map[string]string{"statistics": fmt.Sprintf("grpc://127.0.0.1:%d", statisticsPort)})
	laptopCtl.run(t, "config", "set", "api_key", token)
	n1 := calls()
	if got := regions(t, laptopCtl, domainID, "on the laptop", statisticsLog, inventoryLog); got != before+1 {
		t.Errorf("the laptop's statistics counted %d regions, want %d", got, before+1)
	}
	if calls() == n1 {
		t.Fatalf("the laptop's statistics did not call the laptop's inventory; its log:\n%s", tail(statisticsLog(), 20))
	}
	t.Logf("the laptop's statistics called the laptop's inventory directly (devConfig)")

	// back into the cluster: the laptop stops, up restores inventory, the call succeeds there.
	stopGroup(statistics)
	stopGroup(inventory)
	p.run(t, "config", "rm", "--path", "localServices.inventory")
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up bringing inventory back: %v\n%s", err, tail(out, 40))
	}
	for _, d := range exp.workloadsOf("inventory") {
		if r := get(t, api(t).AppsV1().Deployments(spaceoneNS).Get, d).Status.ReadyReplicas; r != 1 {
			t.Errorf("%s is not back and ready in the cluster: %d ready", d, r)
		}
	}
	if got := regions(t, cluster(), domainID, "in the cluster, after"); got != before+1 {
		t.Errorf("back in the cluster, statistics counted %d regions, want %d (the one the laptop created)", got, before+1)
	}
	if key := rel.handedKey(t); key != "" {
		rel.checkConsumers(t, rn, exp, key)
	}
}

func waitPort(t *testing.T, addr, what string, log func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing listens on %s after 90 s:\n%s", what, addr, tail(log(), 30))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
