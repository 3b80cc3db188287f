// Package target is where a stack deploys: the cluster type, and for a local cluster its
// kubeconfig file and kube context. settings.Load reads it from here, and so does the
// project's cmd/stackcluster for the scripts; it needs nothing beyond the standard library,
// so that command builds in seconds on a machine that has built nothing else yet (make up
// asks it before anything is installed, to fail fast without minikube).
package target

import "path/filepath"

// Project is the namespace of the stack's settings (spaceone:clusterType, ...).
const Project = "spaceone"

// DefaultKubeContext is the kube context a local stack deploys to unless it names one (or a
// kubeconfig file of its own): minikube's, as `minikube start` names it.
const DefaultKubeContext = "minikube"

// Source is where configuration values come from (the program's config, a stack file).
type Source interface {
	GetConfig(key string) (string, bool)
}

// Target is where a stack deploys.
type Target struct {
	Type        string // "local" (an existing kube context or kubeconfig file) or "eks"
	Kubeconfig  string // local: an absolute path of a kubeconfig file of the stack's own, or ""
	KubeContext string // local: the context; "" with a kubeconfig file means its current one
}

// Of reads the target of the stack: relative kubeconfig paths are relative to the working
// directory (the project directory, where the program runs).
func Of(src Source) Target {
	get := func(key, def string) string {
		if v, ok := src.GetConfig(Project + ":" + key); ok {
			return v
		}
		return def
	}
	// An empty context is none named: Pulumi.yaml's default, which the engine hands every
	// stack that sets none.
	t := Target{Type: get("clusterType", "local"), Kubeconfig: get("kubeconfig", ""), KubeContext: get("kubeContext", "")}
	if t.Kubeconfig == "" {
		if t.KubeContext == "" {
			t.KubeContext = DefaultKubeContext
		}
		return t
	}
	if !filepath.IsAbs(t.Kubeconfig) {
		if abs, err := filepath.Abs(t.Kubeconfig); err == nil {
			t.Kubeconfig = abs
		}
	}
	return t
}
