// Command stackcluster prints where a stack of this project deploys, read from its stack
// file by the program's own rule (target.Of, which settings.Load uses), for the project's
// scripts, which must not read YAML themselves:
//
//	go run ./cmd/stackcluster [-dir PROJECT] STACK
//	type=local
//	kubeconfig=
//	context=minikube
//
// PROJECT (default: the working directory) holds stacks/; a relative kubeconfig path is
// relative to it, as for the program. Nothing else of the stack is printed.
//
// With -reach it prints nothing and fails within seconds, with the fix, when a local stack's
// cluster cannot be reached (make up's first step, scripts/preflight.sh).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// stackDir is Pulumi.yaml's stackConfigDir.
const stackDir = "stacks"

func main() {
	dir := flag.String("dir", ".", "the project directory")
	reachOnly := flag.Bool("reach", false, "fail, with the fix, when the stack's cluster cannot be reached")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: stackcluster [-dir PROJECT] [-reach] STACK")
		os.Exit(2)
	}
	if err := os.Chdir(*dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	src, err := readStack(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := target.Of(src)
	if *reachOnly {
		if err := reach(context.Background(), flag.Arg(0), c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("type=%s\nkubeconfig=%s\ncontext=%s\n", c.Type, c.Kubeconfig, c.KubeContext)
}

// stackFile is a stack's configuration as its file holds it, handed over the way the engine
// hands it to the program: strings as they are, objects and lists as JSON.
type stackFile map[string]any

func (f stackFile) GetConfig(key string) (string, bool) {
	v, ok := f[key]
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case nil:
		return "", true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

// readStack reads stacks/Pulumi.STACK.yaml.
func readStack(stack string) (stackFile, error) {
	path := filepath.Join(stackDir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		known, _ := filepath.Glob(filepath.Join(stackDir, "Pulumi.*.yaml"))
		for i, k := range known {
			known[i] = strings.TrimSuffix(strings.TrimPrefix(filepath.Base(k), "Pulumi."), ".yaml")
		}
		return nil, fmt.Errorf("no stack configuration %s; stacks: %s", path, strings.Join(known, " "))
	}
	if err != nil {
		return nil, fmt.Errorf("reading stack %s: %w", stack, err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return stackFile(file.Config), nil
}
