// Package credentials makes passwords and keys that are generated once and then stay the same
// for the life of the stack.
//
// With the stack's credential seed (spaceone:credentialSeed, a Pulumi secret `make up` creates
// once), every value is derived from it (HMAC-SHA256): the same on every run, so an interrupted
// `up` that re-creates a Secret, or an `up` after a `destroy` that kept the stores' volumes,
// writes the very password the data was initialised with. Without a seed the program proposes
// fresh crypto/rand values and the Secret keeps the first (it ignores changes to its data), which
// holds only as long as the Secret lives. All values are Pulumi secrets.
package credentials

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// alphabet avoids characters that need quoting in YAML, URLs or shells.
const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// Random returns n characters from crypto/rand.
func Random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading crypto/rand: %w", err)
	}
	out := make([]byte, n)
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out), nil
}

// Derive makes a stable password for purpose from a generated root secret (HMAC-SHA256), so
// one stored secret yields one distinct password per service user.
func Derive(root pulumi.StringOutput, purpose string) pulumi.StringOutput {
	return pulumi.ToSecret(root.ApplyT(func(r string) string {
		m := hmac.New(sha256.New, []byte(r))
		m.Write([]byte(purpose))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:32]
	})).(pulumi.StringOutput)
}

// Generated is a Secret of generated values.
type Generated struct {
	Secret *corev1.Secret
	Name   string
}

// NewGenerated creates Secret secretName in namespace with one 32-character value per key,
// derived from seed (nil: random, see the package comment). opts go to the Secret.
func NewGenerated(ctx *pulumi.Context, name, secretName string, namespace pulumi.StringInput,
	labels pulumi.StringMap, keys []string, seed *pulumi.StringOutput, opts ...pulumi.ResourceOption) (*Generated, error) {
	return NewShaped(ctx, name, secretName, namespace, labels, keys, seed, nil, opts...)
}

// NewShaped is NewGenerated with shape applied to every generated value before it is stored,
// so the Secret holds the value as it is used (a password that must meet a policy).
func NewShaped(ctx *pulumi.Context, name, secretName string, namespace pulumi.StringInput,
	labels pulumi.StringMap, keys []string, seed *pulumi.StringOutput, shape func(string) string,
	opts ...pulumi.ResourceOption) (*Generated, error) {
	if shape == nil {
		shape = func(v string) string { return v }
	}
	values := map[string]pulumi.StringOutput{}
	for _, k := range keys {
		if seed != nil {
			values[k] = pulumi.ToSecret(Derive(*seed, "generated/"+secretName+"/"+k).ApplyT(shape)).(pulumi.StringOutput)
			continue
		}
		v, err := Random(32)
		if err != nil {
			return nil, fmt.Errorf("generating %s/%s: %w", secretName, k, err)
		}
		values[k] = pulumi.String(shape(v)).ToStringOutput()
	}
	opts = append(opts, pulumi.IgnoreChanges([]string{"data", "stringData"}))
	sec, err := corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata: kube.Managed(&metav1.ObjectMetaArgs{Name: pulumi.String(secretName), Namespace: namespace, Labels: labels}),
		Type:     pulumi.String("Opaque"),
		Data:     kube.SecretData(values),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating secret %s: %w", secretName, err)
	}
	return &Generated{Secret: sec, Name: secretName}, nil
}

// Value is the stored value of key, as a Pulumi secret.
func (g *Generated) Value(key string) pulumi.StringOutput {
	return pulumi.ToSecret(g.Secret.Data.ApplyT(func(d map[string]string) (string, error) {
		enc, ok := d[key]
		if !ok {
			return "", fmt.Errorf("secret %s has no key %q", g.Name, key)
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return "", fmt.Errorf("secret %s key %q is not base64: %w", g.Name, key, err)
		}
		return string(raw), nil
	})).(pulumi.StringOutput)
}
