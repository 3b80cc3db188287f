package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// A local stack's cluster is reached through the kubeconfig kubectl would read: a context
// nobody names and an API server that is not ready fail with the fix; a ready one, an EKS
// stack and a stack with a kubeconfig of its own pass.
func TestReachFailsWithTheFixUnlessTheAPIServerIsReady(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer ready.Close()
	starting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "etcd not ready", http.StatusInternalServerError)
	}))
	defer starting.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n"
	for name, url := range map[string]string{"ready": ready.URL, "starting": starting.URL, "gone": gone.URL} {
		kubeconfig += fmt.Sprintf("- name: %s\n  cluster: {server: %q}\n", name, url)
	}
	kubeconfig += "contexts:\n"
	for _, name := range []string{"ready", "starting", "gone"} {
		kubeconfig += fmt.Sprintf("- name: %s\n  context: {cluster: %s, user: u}\n", name, name)
	}
	kubeconfig += "users:\n- name: u\n  user: {token: t}\n"
	file := filepath.Join(t.TempDir(), "config")
	must(t, os.WriteFile(file, []byte(kubeconfig), 0o600))
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent")+string(os.PathListSeparator)+file)

	for _, c := range []struct {
		target target.Target
		want   string // "" when reachable
	}{
		{target.Target{Type: "local", KubeContext: "ready"}, ""},
		{target.Target{Type: "local", KubeContext: "minikube"}, "but no kubeconfig names that context"},
		{target.Target{Type: "local", KubeContext: "starting"}, "but its API server does not answer (/readyz: 500"},
		{target.Target{Type: "local", KubeContext: "gone"}, "but its API server does not answer"},
		{target.Target{Type: "eks"}, ""},
		{target.Target{Type: "local", Kubeconfig: "/nonexistent/admin.kubeconfig"}, ""},
	} {
		err := reach(context.Background(), "dev", c.target)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.target, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "minikube start")):
			t.Errorf("%+v: %v; want an error with %q and the fix", c.target, err, c.want)
		}
	}
}
