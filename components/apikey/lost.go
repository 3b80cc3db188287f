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
// Namespaces, or a key of Consul.
type Where struct {
	Namespaces []string   // the Secrets' namespaces (hand-off "secret")
	Consul     *ConsulKey // hand-off "consul"
}

// ConsulKey is a key of a Consul reached through the API server's proxy to its Service.
type ConsulKey struct {
	Namespace, Service string
	Port               int
	Key                string
}

// Lost says what is missing of the key ("" = nothing): a Secret gone, or Consul without the
// key. A Secret that is there without the key is not lost: the program makes it empty and
// the initializer fills it, and on the sim control plane, where nothing runs, it stays empty.
// It reads only what up needs to know to repair it, one request per place (a no-op up must
// stay cheap).
func Lost(ctx context.Context, client kubernetes.Interface, w Where) (string, error) {
	if c := w.Consul; c != nil {
		_, err := client.CoreV1().Services(c.Namespace).
			ProxyGet("http", c.Service, strconv.Itoa(c.Port), "/v1/kv/"+c.Key, nil).DoRaw(ctx)
		switch {
		// Consul's own 404 (no such key) has no Status body; a missing Service would name itself.
		case apierrors.IsNotFound(err) && strings.Contains(err.Error(), "the server could not find the requested resource"):
			return fmt.Sprintf("Consul holds no API key at %s", c.Key), nil
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
