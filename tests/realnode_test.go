package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// realNode is the proving ground's node agent (tests/realnode) running beside the sim: every
// pod scheduled to it runs as real processes. While it runs, the kwok node is cordoned, so
// every pod of the stack lands on it.
type realNode struct {
	cmd   *exec.Cmd
	dir   string // its state: pods' scratch, logs
	log   string // the agent's own log
	venvs string // the Python environments of scripts/runtimes.sh
}

// realNodeName is the real node's Node; the sim's kwok node is cordoned while it runs.
const realNodeName, kwokNodeName = "real-node-0", "kwok-node-0"

func startRealNode(t *testing.T) *realNode {
	t.Helper()
	bin := os.Getenv("SPACEONE_REALNODE")
	if bin == "" {
		t.Fatal("SPACEONE_REALNODE is not set: run the integration tests with `make test`, which builds tests/realnode and its runtimes")
	}
	runtimes := toolPath("SPACEONE_CACHE") + "/runtimes"
	dir := t.TempDir()
	rn := &realNode{dir: dir, log: filepath.Join(dir, "realnode.log"), venvs: runtimes + "/python"}
	logf, err := os.Create(rn.log)
	must(t, err)
	mustKubectl(t, "cordon", kwokNodeName)
	rn.cmd = exec.Command(bin, "-node-name", realNodeName, "-kubeconfig", filepath.Join(simDir, "admin.kubeconfig"), "-state", dir,
		"-runtimes", runtimes, "-standins", filepath.Join(root, "tests/realnode/standins"), "-plugins", filepath.Join(root, "tests/plugins"), "-registry-port", strconv.Itoa(nodeRegistryPort),
		"-tls-cert", filepath.Join(simDir, "run/pki/kwok.crt"), "-tls-key", filepath.Join(simDir, "run/pki/kwok.key"))
	images := filepath.Join(dir, "catalogue-images.yaml")
	must(t, os.WriteFile(images, catalogueImages(t), 0o644))
	rn.cmd.Args = append(rn.cmd.Args, "-images", images)
	if table := os.Getenv("SPACEONE_REALNODE_TABLE"); table != "" {
		rn.cmd.Args = append(rn.cmd.Args, "-table", table) // e.g. stores that start late, to see who copes
	}
	rn.cmd.Stdout, rn.cmd.Stderr = logf, logf
	must(t, rn.cmd.Start())
	t.Cleanup(func() {
		rn.stop(t)
		kubectl(t, "uncordon", kwokNodeName)
		if t.Failed() {
			b, _ := os.ReadFile(rn.log)
			t.Logf("realnode log (last 60 lines):\n%s", tail(string(b), 60))
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if out, err := kubectl(t, "wait", "--for=condition=Ready", "node/"+realNodeName, "--timeout=2s"); err == nil {
			break
		} else if time.Now().After(deadline) {
			b, _ := os.ReadFile(rn.log)
			t.Fatalf("real node not ready: %s\n%s", out, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return rn
}

func (rn *realNode) stop(t *testing.T) {
	if rn.cmd == nil || rn.cmd.Process == nil {
		return
	}
	rn.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- rn.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		rn.cmd.Process.Kill()
		<-done
	}
	rn.cmd = nil
}

// proc is one process of this PID namespace.
type proc struct {
	ppid    int
	cmdline string
}

// procTable reads every process from /proc.
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

// processes lists the processes the agent runs for pods (its descendants), as "pid command".
func (rn *realNode) processes() []string {
	if rn.cmd == nil {
		return nil
	}
	children := map[int][]int{}
	procs := procTable()
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var out []string
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, fmt.Sprintf("%d %s", c, procs[c].cmdline))
			walk(c)
		}
	}
	walk(rn.cmd.Process.Pid)
	return out
}

// rssMiB is the resident memory of every process the agent runs for pods, added up.
func (rn *realNode) rssMiB() int {
	total := 0
	for _, kb := range rn.rssByPod() {
		total += kb
	}
	return total / 1024
}

// rssByPod is the resident memory (KiB) of the agent's processes, added up per pod (the
// HOSTNAME the real node gives each pod's processes): what a container's memory request
// must cover.
func (rn *realNode) rssByPod() map[string]int {
	out := map[string]int{}
	for _, p := range rn.processes() {
		pid := strings.Fields(p)[0]
		b, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			continue
		}
		pod := "?"
		env, _ := os.ReadFile("/proc/" + pid + "/environ")
		for _, kv := range strings.Split(string(env), "\x00") {
			if h, ok := strings.CutPrefix(kv, "HOSTNAME="); ok {
				pod = h
			}
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.Atoi(f[1])
				out[pod] += n
			}
		}
	}
	return out
}

// podLogs returns the logs of every container whose pod name starts with prefix, by file name.
func (rn *realNode) podLogs(t *testing.T, namespace, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(rn.dir, "logs", namespace+"_"+prefix+"*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// allLogs is every log a process of the stack wrote: the containers' stdout/stderr and the
// files the services write in their log volumes.
func (rn *realNode) allLogs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(rn.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.HasSuffix(p, ".log") && (strings.Contains(p, "/logs/") || strings.Contains(p, "/volumes/")) {
			if b, err := os.ReadFile(p); err == nil {
				out[p] = string(b)
			}
		}
		return nil
	})
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// spacectl runs SpaceONE's own CLI (from the runtimes' Python environment) with its
// configuration in home. It exits 0 on its own errors, so callers read what it printed.
type spacectlEnv struct {
	bin, home string
}

func newSpacectl(t *testing.T, rn *realNode, release string, endpoints map[string]string) *spacectlEnv {
	t.Helper()
	s := &spacectlEnv{bin: filepath.Join(rn.venvs, release, "bin/spacectl"), home: t.TempDir()}
	must(t, os.MkdirAll(filepath.Join(s.home, ".spaceone/environments"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.home, ".spaceone/environment.yml"), []byte("environment: test\n"), 0o644))
	var b strings.Builder
	b.WriteString("endpoints:\n")
	for name, ep := range endpoints {
		fmt.Fprintf(&b, "  %s: %s\n", strings.ReplaceAll(name, "-", "_"), ep)
	}
	must(t, os.WriteFile(filepath.Join(s.home, ".spaceone/environments/test.yml"), []byte(b.String()), 0o644))
	return s
}

func (s *spacectlEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+s.home, "PYTHONWARNINGS=ignore")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// catalogueImages is what stands in on the real node for every catalogue service's image,
// derived from the catalogue as the images are built: python-core's CLI as the entrypoint,
// `grpc <package> -m /opt` as the CMD, the ENV every service image of both releases sets
// (unbuffered output, the gRPC port), in the release's Python environment
// (scripts/runtimes.sh). tests/realnode/runtimes.yaml holds the exceptions, which win.
func catalogueImages(t *testing.T) []byte {
	t.Helper()
	type runtime struct {
		Path       []string          `yaml:"path"`
		Entrypoint []string          `yaml:"entrypoint"`
		Cmd        []string          `yaml:"cmd"`
		Env        map[string]string `yaml:"env"`
	}
	images := map[string]runtime{}
	for _, v := range catalog.Versions() {
		rel, err := catalog.Load(v)
		must(t, err)
		for _, name := range rel.ServiceNames() {
			s := rel.Services[name]
			images[s.Image+":"+s.Tag] = runtime{Path: []string{"python/" + v + "/bin"}, Entrypoint: []string{"spaceone"},
				Cmd: []string{"grpc", s.Package, "-m", "/opt"},
				Env: map[string]string{"PYTHONUNBUFFERED": "1", "SPACEONE_PORT": strconv.Itoa(catalog.GRPCPort)}}
		}
	}
	b, err := yaml.Marshal(map[string]any{"images": images})
	must(t, err)
	return b
}
