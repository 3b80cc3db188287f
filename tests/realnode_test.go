package tests

import (
	"bufio"
	"cmp"
	"encoding/json"
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

// nodeProcess is one process the real node runs for pods (tests/realnode, GET /processes).
type nodeProcess struct {
	PID     int    `json:"pid"`
	Pod     string `json:"pod"` // namespace/name
	Cmdline string `json:"cmdline"`
	RSSKiB  int    `json:"rssKiB"`
}

// nodeProcesses asks the real node which processes it runs for pods (GET /processes of its
// kubelet API, tests/realnode/processes.go).
func (rn *realNode) nodeProcesses(t *testing.T) []nodeProcess {
	t.Helper()
	if rn.cmd == nil {
		return nil
	}
	var procs []nodeProcess
	must(t, json.Unmarshal(kubeletGet(t, realNodeName, "/processes"), &procs))
	return procs
}

// processes lists the processes the node runs for pods, as "pid command".
func (rn *realNode) processes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range rn.nodeProcesses(t) {
		out = append(out, fmt.Sprintf("%d %s", p.PID, p.Cmdline))
	}
	return out
}

// rssMiB is the resident memory of every process the node runs for pods, added up.
func (rn *realNode) rssMiB(t *testing.T) int {
	total := 0
	for _, kb := range rn.rssByPod(t) {
		total += kb
	}
	return total / 1024
}

// rssByPod is the resident memory (KiB) of the node's processes, added up per pod: what a
// container's memory request must cover.
func (rn *realNode) rssByPod(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, p := range rn.nodeProcesses(t) {
		pod := p.Pod
		if pod == "" {
			pod = "?"
		}
		out[pod] += p.RSSKiB
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

// serviceImageWorkdir is the SpaceONE service images' WORKDIR (their source is copied there,
// installed, and removed: it is empty at run time), where their processes start.
const serviceImageWorkdir = "/tmp/src"

// serviceImageEnv is the ENV a release's service images set, read from their build files
// (../shared/reference/image-fidelity.md): the 1.10.4 images' own Dockerfile; the 1.12 ones'
// with what their base, cloudforet/python-core:1.12, sets (PYTHONPATH ":/opt" puts the working
// directory, then /opt, on every process's sys.path).
func serviceImageEnv(t *testing.T, release, tag string) map[string]string {
	t.Helper()
	env := map[string]string{"PYTHONUNBUFFERED": "1", "SPACEONE_PORT": strconv.Itoa(catalog.GRPCPort),
		"SRC_DIR": serviceImageWorkdir, "CONF_DIR": "/etc/spaceone", "LOG_DIR": "/var/log/spaceone"}
	switch release {
	case "1.10.4":
		env["PKG_DIR"], env["EXTENSION_NAME"], env["EXTENSION_SRC_DIR"] = "/tmp/pkg", "extension", "/opt/spaceone"
	case "1.12.12":
		env["EXTENSION_DIR"], env["PYTHONPATH"], env["PACKAGE_VERSION"] = "/opt/spaceone", ":/opt", tag
	default:
		t.Fatalf("release %s: no service image ENV for it in serviceImageEnv (read it from its images' Dockerfiles)", release)
	}
	return env
}

// imageEnvironments maps each image that has a Python environment of its own (its images'
// spaceone-core and spaceone-api, older than its release's) to that environment's name: the
// `# images:` line of scripts/runtimes/requirements-<name>.txt, which scripts/runtimes.sh
// installs as python/<name>. Any other image runs in its release's environment.
func imageEnvironments(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "scripts", "runtimes", "requirements-*.txt"))
	must(t, err)
	envs := map[string]string{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "requirements-"), ".txt")
		b, err := os.ReadFile(f)
		must(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			list, ok := strings.CutPrefix(line, "# images:")
			if !ok {
				continue
			}
			for _, image := range strings.Fields(list) {
				if other, twice := envs[image]; twice {
					t.Fatalf("image %s is in two Python environments: %s and %s", image, other, name)
				}
				envs[image] = name
			}
		}
	}
	return envs
}

// The Python environment of every image is written once: an image that has one of its own
// (imageEnvironments) runs in it wherever tests/realnode/runtimes.yaml describes it too, and
// runtimes.yaml gives no other image an environment of that kind.
func TestEachImageHasOnePythonEnvironment(t *testing.T) {
	envs := imageEnvironments(t)
	b, err := os.ReadFile(filepath.Join(root, "tests", "realnode", "runtimes.yaml"))
	must(t, err)
	var table struct {
		Images map[string]struct{ Path []string } `yaml:"images"`
	}
	must(t, yaml.Unmarshal(b, &table))
	grouped := map[string]bool{}
	for _, env := range envs {
		grouped[env] = true
	}
	for image, r := range table.Images {
		for _, p := range r.Path {
			env, ok := strings.CutPrefix(strings.TrimSuffix(p, "/bin"), "python/")
			if !ok {
				continue
			}
			if want, own := envs[image]; own && env != want || !own && grouped[env] {
				t.Errorf("runtimes.yaml runs %s in python/%s; its environment is python/%s (the requirements files' # images: lines)", image, env, cmp.Or(want, "of its release"))
			}
		}
	}
}

// catalogueImages is what stands in on the real node for every catalogue service's image,
// derived from the catalogue as the images are built: python-core's CLI as the entrypoint,
// `grpc <package> -m /opt` as the CMD, WORKDIR /tmp/src, the ENV of the release's service
// images (serviceImageEnv), in the release's Python environment (scripts/runtimes.sh).
// tests/realnode/runtimes.yaml holds the exceptions, which win.
func catalogueImages(t *testing.T) []byte {
	t.Helper()
	type runtime struct {
		Path       []string          `yaml:"path"`
		Entrypoint []string          `yaml:"entrypoint"`
		Cmd        []string          `yaml:"cmd"`
		Env        map[string]string `yaml:"env"`
		Workdir    string            `yaml:"workdir"`
	}
	images, envs := map[string]runtime{}, imageEnvironments(t)
	for _, v := range catalog.Versions() {
		rel, err := catalog.Load(v)
		must(t, err)
		for _, name := range rel.ServiceNames() {
			s := rel.Services[name]
			image, env := s.Image+":"+s.Tag, v
			if e, ok := envs[image]; ok {
				env = e
			}
			images[image] = runtime{Path: []string{"python/" + env + "/bin"}, Entrypoint: []string{"spaceone"},
				Cmd: []string{"grpc", s.Package, "-m", "/opt"}, Env: serviceImageEnv(t, v, s.Tag), Workdir: serviceImageWorkdir}
		}
	}
	b, err := yaml.Marshal(map[string]any{"images": images})
	must(t, err)
	return b
}
