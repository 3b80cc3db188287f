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
)

// An interrupted test run leaves no process behind: scripts/isolated.sh (what make test runs
// the integration tests in) turns SIGTERM into the end of its PID namespace, which the kernel
// reaps whole. The processes here stand in for a control plane that was started inside.
func TestInterruptedRunLeavesNoProcess(t *testing.T) {
	needSim(t)
	marker := filepath.Join(t.TempDir(), "started")
	cmd := exec.Command(filepath.Join(root, "scripts/isolated.sh"), "bash", "-c",
		"sleep 301 & sleep 302 & touch "+marker+"; wait")
	must(t, cmd.Start())
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the isolated command did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := countProcs("sleep 30"); n != 2 {
		t.Fatalf("%d sleeps running inside, want 2", n)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	time.Sleep(500 * time.Millisecond)
	if n := countProcs("sleep 30"); n != 0 {
		t.Errorf("after SIGTERM of the run, %d of its processes are still running", n)
	}
}

// countProcs counts processes whose command line starts with prefix.
func countProcs(prefix string) int {
	n := 0
	for _, p := range procTable() {
		if strings.HasPrefix(p.cmdline, prefix) {
			n++
		}
	}
	return n
}

// proc is one process of this PID namespace.
type proc struct {
	ppid    int
	cmdline string
}

// procTable reads every process of the tests' own PID namespace from /proc.
func procTable() map[int]proc {
	out := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out[pid] = proc{ppid: ppid, cmdline: strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))}
	}
	return out
}
