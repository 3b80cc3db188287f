package tests

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// The namespaces a stack deploys to when it names none, as the program defaults them.
const (
	spaceoneNS = settings.DefaultNamespace
	pluginNS   = settings.DefaultPluginNamespace
)

// The tests read the cluster's state through client-go, typed, as cluster admin of the sim's
// API server. kubectl stays for what a user types (exec, logs, port-forward, auth can-i, wait,
// rollout status, applying rendered files) and for deleting.
var (
	adminConfig = sync.OnceValues(func() (*rest.Config, error) {
		return clientcmd.BuildConfigFromFlags("", filepath.Join(simDir, "admin.kubeconfig"))
	})
	admin = sync.OnceValues(func() (*kubernetes.Clientset, error) {
		cfg, err := adminConfig()
		if err != nil {
			return nil, err
		}
		return kubernetes.NewForConfig(cfg)
	})
)

// api is the sim's API server, as cluster admin.
func api(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	c, err := admin()
	if err != nil {
		t.Fatalf("a client of the sim's API server: %v", err)
	}
	return c
}

// kubeletGet reads path from a node's own API (its kubelet endpoint, as the node reports it),
// with the cluster admin's credentials. The API server's node proxy would refuse: the sim's
// nodes listen on loopback, which it does not proxy to.
func kubeletGet(t *testing.T, node, path string) []byte {
	t.Helper()
	n := get(t, api(t).CoreV1().Nodes().Get, node)
	var ip string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	cfg, err := adminConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Host = "https://" + net.JoinHostPort(ip, strconv.Itoa(int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)))
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(cfg.Host + path)
	if err != nil {
		t.Fatalf("node %s, %s: %v", node, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("node %s, %s: %s %v\n%s", node, path, resp.Status, err, b)
	}
	return b
}

// get reads one object by name with the client's Get (api(t).CoreV1().Secrets(spaceoneNS).Get); a
// missing object fails the test.
func get[T any](t *testing.T, read func(context.Context, string, metav1.GetOptions) (T, error), name string) T {
	t.Helper()
	v, err := read(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return v
}

// exists tells whether the object is there; any error but "not found" fails the test.
func exists[T any](t *testing.T, read func(context.Context, string, metav1.GetOptions) (T, error), name string) bool {
	t.Helper()
	_, err := read(t.Context(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return true
}

// list lists with the client's List and a label selector ("" for all).
func list[T any](t *testing.T, read func(context.Context, metav1.ListOptions) (T, error), selector string) T {
	t.Helper()
	v, err := read(t.Context(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing %s: %v", selector, err)
	}
	return v
}

// names are the objects' names.
func names[T any, P interface {
	*T
	metav1.Object
}](items []T) []string {
	var out []string
	for i := range items {
		out = append(out, P(&items[i]).GetName())
	}
	return out
}

// ourObjects lists, by kind, the names of every object in the cluster labelled as this
// program's (kube.PartOfLabel): what a refusal must not have made and a destroy must not leave.
func ourObjects(t *testing.T) map[string][]string {
	t.Helper()
	ours := kube.PartOfLabel + "=" + kube.PartOf
	core, apps, batch, rbac := api(t).CoreV1(), api(t).AppsV1(), api(t).BatchV1(), api(t).RbacV1()
	return map[string][]string{
		"namespaces":      names(list(t, core.Namespaces().List, ours).Items),
		"pods":            names(list(t, core.Pods("").List, ours).Items),
		"services":        names(list(t, core.Services("").List, ours).Items),
		"deployments":     names(list(t, apps.Deployments("").List, ours).Items),
		"replicasets":     names(list(t, apps.ReplicaSets("").List, ours).Items),
		"statefulsets":    names(list(t, apps.StatefulSets("").List, ours).Items),
		"daemonsets":      names(list(t, apps.DaemonSets("").List, ours).Items),
		"jobs":            names(list(t, batch.Jobs("").List, ours).Items),
		"cronjobs":        names(list(t, batch.CronJobs("").List, ours).Items),
		"configmaps":      names(list(t, core.ConfigMaps("").List, ours).Items),
		"secrets":         names(list(t, core.Secrets("").List, ours).Items),
		"serviceaccounts": names(list(t, core.ServiceAccounts("").List, ours).Items),
		"roles":           names(list(t, rbac.Roles("").List, ours).Items),
		"rolebindings":    names(list(t, rbac.RoleBindings("").List, ours).Items),
		"ingresses":       names(list(t, api(t).NetworkingV1().Ingresses("").List, ours).Items),
	}
}
