package main

import (
	"encoding/base64"
	"strings"
	"testing"
)

// A Secret keeps its keys and loses its values, in data (base64) and stringData alike, nested
// values included; a ConfigMap is left as it is.
func TestRedactKeepsKeysAndDropsValues(t *testing.T) {
	secret := `apiVersion: v1
kind: Secret
metadata:
  name: mongodb-users
  namespace: spaceone
data:
  identity: ` + base64.StdEncoding.EncodeToString([]byte("Hunter2-pw")) + `
stringData:
  token.yaml: |
    TOKEN: eyJhbGciOi.secret-token
  password: "Hunter3-pw"
type: Opaque
`
	out, changed, err := redact([]byte(secret))
	if err != nil || !changed {
		t.Fatalf("redact: changed %v, %v", changed, err)
	}
	got := string(out)
	for _, leak := range []string{"Hunter2-pw", base64.StdEncoding.EncodeToString([]byte("Hunter2-pw")), "secret-token", "Hunter3-pw"} {
		if strings.Contains(got, leak) {
			t.Errorf("the redacted Secret still holds %q:\n%s", leak, got)
		}
	}
	for _, kept := range []string{"name: mongodb-users", "identity: cmVkYWN0ZWQ=", "token.yaml: redacted", "password: redacted", "type: Opaque"} {
		if !strings.Contains(got, kept) {
			t.Errorf("the redacted Secret lacks %q:\n%s", kept, got)
		}
	}
	cm := "apiVersion: v1\nkind: ConfigMap\ndata:\n  password: not-a-secret\n"
	if out, changed, err := redact([]byte(cm)); err != nil || changed || string(out) != cm {
		t.Errorf("a ConfigMap was changed (%v, %v):\n%s", changed, err, out)
	}
}
