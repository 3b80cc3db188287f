package apikey

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Where is where a deployed platform keeps its API key: the Secrets of the hand-off, in
// Namespaces, or a Consul key, read through the API server's proxy to the consul Service of
// ConsulNamespace.
type Where struct {
	Namespaces []string // the Secrets' namespaces (hand-off "secret")
	// Consul (hand-off "consul"): the Service's namespace, port and the key's path.
	ConsulNamespace, ConsulKey string
	ConsulPort                 int
}

// Lost says what is missing of the key ("" = nothing): a Secret gone, or Consul without the
// key. A Secret that is there without the key is not lost: the program makes it empty and
// the initializer fills it, and on the sim control plane, where nothing runs, it stays empty.
// It reads only what up needs to know to repair it, one request per place (a no-op up must
// stay cheap).
func Lost(ctx context.Context, client kubernetes.Interface, w Where) (string, error) {
	if w.ConsulKey != "" {
		_, err := client.CoreV1().Services(w.ConsulNamespace).
			ProxyGet("http", "consul", strconv.Itoa(w.ConsulPort), "/v1/kv/"+w.ConsulKey, nil).DoRaw(ctx)
		switch {
		case apierrors.IsNotFound(err) && strings.Contains(err.Error(), "the server could not find the requested resource"):
			return fmt.Sprintf("Consul holds no API key at %s", w.ConsulKey), nil
		case err != nil:
			return "", fmt.Errorf("reading the API key's place in Consul: %w", err)
		}
		return "", nil
	}
	for _, ns := range w.Namespaces {
		_, err := client.CoreV1().Secrets(ns).Get(ctx, SecretName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("the Secret %s/%s is gone", ns, SecretName), nil
		case err != nil:
			return "", fmt.Errorf("reading the Secret %s/%s: %w", ns, SecretName, err)
		}
	}
	return "", nil
}
