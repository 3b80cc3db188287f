package main

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
)

//go:embed runtimes.yaml
var defaultTable []byte

// Runtime is what stands in for one image on this machine.
type Runtime struct {
	Path       []string          `yaml:"path"`
	Entrypoint []string          `yaml:"entrypoint"`
	Cmd        []string          `yaml:"cmd"`
	Env        map[string]string `yaml:"env"`
	WorkDir    string            `yaml:"workdir"` // the image's WORKDIR ("" = /); the pod's workingDir wins
}

// Table maps image references to runtimes.
type Table struct {
	Images map[string]Runtime `yaml:"images"`
	// Root is where scripts/runtimes.sh installed the runtimes.
	Root string
}

// Sources are what a table entry may name by token: "@standins" (tests/realnode/standins: the
// stand-ins of programs an image has) and "@plugins" (tests/plugins: the code of the test
// plugins' images, what their /opt holds) in a path, entrypoint, cmd or env value; "@hubca"
// (the certificate of the CA of the node's Docker Hub stand-in) in an env value; and
// "@registry" (the node's stand-in registry, host:port) in an image.
type Sources struct{ Standins, Plugins, HubCA, Registry string }

// LoadTable reads a runtime table; unknown keys are errors, so a typo cannot pass silently.
func LoadTable(data []byte, root string, src Sources) (*Table, error) {
	var t Table
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("reading the runtime table: %w", err)
	}
	t.Root = root
	expand := strings.NewReplacer("@standins", src.Standins, "@plugins", src.Plugins, "@hubca", src.HubCA)
	images := map[string]Runtime{}
	for image, r := range t.Images {
		for _, list := range [][]string{r.Path, r.Entrypoint, r.Cmd} {
			for i, v := range list {
				list[i] = expand.Replace(v)
			}
		}
		env := map[string]string{}
		for k, v := range r.Env {
			env[k] = expand.Replace(v)
		}
		r.Env = env
		images[strings.Replace(image, "@registry", src.Registry, 1)] = r
	}
	t.Images = images
	return &t, nil
}

// Add takes the images of more that t has no entry for: t's own entries are the exceptions
// to what more derives.
func (t *Table) Add(more *Table) {
	for image, r := range more.Images {
		if _, ok := t.Images[image]; !ok {
			t.Images[image] = r
		}
	}
}

// NoRuntimeError says an image has no stand-in here: the pod fails with this message.
type NoRuntimeError struct{ Image string }

func (e NoRuntimeError) Error() string {
	return fmt.Sprintf("no runtime for image %q on the real node: add it to tests/realnode/runtimes.yaml (or leave the workload out of the real-run stack)", e.Image)
}

// Lookup finds the runtime of an image reference.
func (t *Table) Lookup(image string) (Runtime, error) {
	r, ok := t.Images[image]
	if !ok {
		return Runtime{}, NoRuntimeError{Image: image}
	}
	return r, nil
}

// PathDirs resolves the runtime's PATH entries and checks that each exists, so a missing
// install is reported as such and not as "command not found".
func (t *Table) PathDirs(r Runtime) ([]string, error) {
	var dirs []string
	for _, p := range r.Path {
		if !filepath.IsAbs(p) {
			p = filepath.Join(t.Root, p)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("runtime directory %s is missing: run scripts/runtimes.sh", p)
		}
		dirs = append(dirs, p)
	}
	return dirs, nil
}

// Argv is what a container runtime runs for c: the pod's command replaces the image's
// entrypoint (and then its CMD is dropped), the pod's args replace the CMD.
func Argv(r Runtime, c *corev1.Container) []string {
	var argv []string
	if len(c.Command) > 0 {
		argv = append(argv, c.Command...)
		return append(argv, c.Args...)
	}
	argv = append(argv, r.Entrypoint...)
	if len(c.Args) > 0 {
		return append(argv, c.Args...)
	}
	return append(argv, r.Cmd...)
}

// Environ is the process environment: PATH with the runtime first, the image's env, then the
// pod's (already resolved by virtual-kubelet: valueFrom, service links).
func Environ(pathDirs []string, r Runtime, c *corev1.Container, hostname string) []string {
	env := map[string]string{
		"PATH":     strings.Join(append(pathDirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"), ":"),
		"HOME":     "/root",
		"HOSTNAME": hostname,
		"LANG":     "C.UTF-8",
	}
	for k, v := range r.Env {
		env[k] = v
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}
