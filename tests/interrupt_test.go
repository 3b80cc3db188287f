package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// TestInterruptedUpConverges: the CLI is killed (SIGKILL) while resources are being created;
// the recovery step `make up` runs first, then a plain up, converge with no state surgery.
// Where the kill lands varies from run to run (objects sent but not recorded, a checkpoint cut
// short, a stale lock); every landing must converge. SPACEONE_TEST_INTERRUPT_RUNS=N repeats it.
func TestInterruptedUpConverges(t *testing.T) {
	needSim(t)
	runs := 1
	if n, err := strconv.Atoi(os.Getenv("SPACEONE_TEST_INTERRUPT_RUNS")); err == nil && n > 1 {
		runs = n
	}
	for i := 1; i <= runs; i++ {
		t.Run(fmt.Sprintf("run%d", i), interruptedUpConverges)
	}
}

func interruptedUpConverges(t *testing.T) {
	p := newProject(t, "sim", simStackConfig())
	p.run(t, "preview") // build the program, so the kill lands during resource creation
	cmd := exec.Command("pulumi", "up", "--yes", "--skip-preview", "--stack", p.stack, "--non-interactive")
	cmd.Dir, cmd.Env = p.dir, p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	deadline := time.Now().Add(3 * time.Minute)
	for {
		// The hardest moment: a generated credential exists, its creation not yet recorded.
		if exists(t, api(t).CoreV1().Secrets(spaceoneNS).Get, stores.MongoDBRootSecret) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pulumi up created nothing within 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	must(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)) // the CLI, mid-way
	cmd.Wait()
	killPlugins(t, p.dir) // plugins run in process groups of their own; the killed CLI orphaned them
	rootPw := mongoRootPassword(t)
	t.Cleanup(func() {
		if out, err := p.try(t, "destroy", "--yes", "--skip-preview"); err != nil {
			t.Logf("destroy failed (%v); clearing the sim for the next test:\n%s", err, out)
			clearSim(t)
		}
	})

	if _, err := p.try(t, "up", "--yes", "--skip-preview"); err == nil {
		t.Log("note: up succeeded without recovery (the kill left no lock)")
	}
	t.Logf("recover.sh: %s", strings.TrimSpace(p.script(t, "recover.sh", p.stack)))
	convergesAfter(t, p, "the interruption", rootPw)
	state := strings.Join(strings.Fields(p.run(t, "stack", "export", "--stack", p.stack)), "")
	if !strings.Contains(state, `"resources":[`) {
		t.Fatalf("stack export is not a deployment:\n%.300s", state)
	}
	if strings.Contains(state, `"pending_operations":[{`) {
		t.Error("pending operations remain in the state")
	}
}

// killPlugins stops the provider processes a killed CLI left running for project dir: those
// started with the project's Pulumi home in their environment.
func killPlugins(t *testing.T, dir string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains("\x00"+string(b), "\x00PULUMI_HOME="+filepath.Join(dir, "home")+"\x00") {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestObjectSentButNotRecordedIsAdopted is the hardest landing of an interrupted up, made
// deterministic: a StatefulSet (and every Deployment that waits for it) exists on the server —
// the killed run sent it — but the state does not know it. A plain up must adopt them all,
// with no field conflict, and converge.
func TestObjectSentButNotRecordedIsAdopted(t *testing.T) {
	needSim(t)
	p := newProject(t, "sim", simStackConfig())
	p.run(t, "up", "--yes", "--skip-preview")
	t.Cleanup(func() { p.try(t, "destroy", "--yes", "--skip-preview") })
	var urn string
	for _, line := range strings.Split(p.run(t, "stack", "--show-urns", "--stack", p.stack), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[len(f)-1], "urn:") &&
			strings.Contains(f[len(f)-1], "kubernetes:apps/v1:StatefulSet::mongodb") {
			urn = f[len(f)-1]
		}
	}
	if urn == "" {
		t.Fatal("no mongodb StatefulSet in the stack")
	}
	// With everything that depends on it: all of those are then "sent but not recorded" too.
	p.run(t, "state", "delete", urn, "--yes", "--target-dependents")
	p.run(t, "up", "--yes", "--skip-preview")
	p.run(t, "preview", "--expect-no-changes")
	if ready := get(t, api(t).AppsV1().StatefulSets(spaceoneNS).Get, "mongodb").Status.ReadyReplicas; ready != 1 {
		t.Errorf("mongodb not ready after adoption: %d ready", ready)
	}
}

// TestLostCheckpointIsRebuilt: the kill truncated the checkpoint and no backup is readable, and
// the dead run's lock remains. The recovery starts the state afresh and a plain up adopts every
// object, with the same generated password (derived from the credential seed in the config).
func TestLostCheckpointIsRebuilt(t *testing.T) {
	p, ckpt, rootPw := deployedForRecovery(t)
	must(t, os.WriteFile(ckpt, nil, 0o644))
	os.Remove(ckpt + ".bak")
	// The lock of a pulumi process that is gone (pid 2^22+1 does not exist on Linux).
	locks := filepath.Join(p.dir, "state", ".pulumi", "locks", "organization", "spaceone", p.stack)
	must(t, os.MkdirAll(locks, 0o755))
	host, _ := os.Hostname()
	must(t, os.WriteFile(filepath.Join(locks, "dead.json"),
		[]byte(fmt.Sprintf(`{"pid": 4194305, "username": "test", "hostname": %q, "timestamp": "2026-01-01T00:00:00Z"}`, host)), 0o644))

	if out := p.script(t, "recover.sh", p.stack); !strings.Contains(out, "starting its state afresh") {
		t.Errorf("recover.sh did not rebuild the state:\n%s", out)
	}
	convergesAfter(t, p, "the rebuild of the state", rootPw)
}

// TestCutMetadataIsRepairedFromTheBackup: the kill cut the checkpoint's metadata file (gocloud's
// file store writes it beside the checkpoint, truncating it first), so pulumi cannot load the
// stack although the checkpoint itself is whole. The recovery puts the backend's backup of the
// checkpoint back, and a plain up converges.
func TestCutMetadataIsRepairedFromTheBackup(t *testing.T) {
	p, ckpt, rootPw := deployedForRecovery(t)
	must(t, os.WriteFile(ckpt+".attrs", nil, 0o644))
	if _, err := p.try(t, "stack", "export"); err == nil {
		t.Fatal("pulumi reads the stack with its checkpoint's metadata cut: the landing this test makes is not one")
	}
	if out := p.script(t, "recover.sh", p.stack); !strings.Contains(out, "restored the backend's backup") {
		t.Errorf("recover.sh did not restore the backup:\n%s", out)
	}
	convergesAfter(t, p, "the restore of the backup", rootPw)
}

// deployedForRecovery deploys the sim stack of a new project, to be damaged as a kill would
// damage it: the project, the path of its checkpoint (the DIY backend's file) and the MongoDB
// root password the data was initialised with.
func deployedForRecovery(t *testing.T) (p *project, checkpoint, rootPw string) {
	t.Helper()
	needSim(t)
	p = newProject(t, "sim", simStackConfig())
	p.run(t, "up", "--yes", "--skip-preview")
	t.Cleanup(func() { p.try(t, "destroy", "--yes", "--skip-preview") })
	return p, filepath.Join(p.dir, "state", ".pulumi", "stacks", "spaceone", p.stack+".json"), mongoRootPassword(t)
}

// convergesAfter: after what went wrong and the recovery, a plain up converges (nothing left to
// change), MongoDB keeps the root password its data was initialised with, identity is ready.
func convergesAfter(t *testing.T, p *project, what, rootPw string) {
	t.Helper()
	p.run(t, "up", "--yes", "--skip-preview")
	p.run(t, "preview", "--expect-no-changes")
	if pw := mongoRootPassword(t); pw != rootPw {
		t.Errorf("the MongoDB root password changed across %s: the data initialised with it would be locked out", what)
	}
	if ready := identityReady(t); ready != 1 {
		t.Errorf("identity not ready after %s: %d ready", what, ready)
	}
}
