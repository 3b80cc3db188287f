// Command redactsecrets rewrites rendered manifests so that no Secret in them holds a value:
// every value of a Secret's data becomes the base64 of "redacted", every value of its
// stringData "redacted"; the keys stay, so a reader sees what the Secret carries. Other
// documents are written back unchanged in content.
//
//	go run ./cmd/redactsecrets FILE...
//
// make render runs it on what the kubernetes provider's render mode wrote (scripts/render.sh).
package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

const redacted = "redacted"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: redactsecrets FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := redactFile(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// redactFile rewrites path in place when it holds a Secret.
func redactFile(path string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, changed, err := redact(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

// redact returns the YAML stream with every Secret's values replaced, and whether there was one.
func redact(in []byte) ([]byte, bool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(in))
	var docs []*yaml.Node
	changed := false
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, false, err
		}
		if root := mapping(&doc); root != nil && scalar(root, "kind") == "Secret" {
			for field, value := range map[string]string{
				"data":       base64.StdEncoding.EncodeToString([]byte(redacted)),
				"stringData": redacted,
			} {
				if m := child(root, field); m != nil && m.Kind == yaml.MappingNode {
					for i := 1; i < len(m.Content); i += 2 {
						m.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
					}
				}
			}
			changed = true
		}
		docs = append(docs, &doc)
	}
	if !changed {
		return in, false, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, false, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, false, err
	}
	return b.Bytes(), true, nil
}

// mapping is the document's top-level mapping, or nil.
func mapping(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		return doc.Content[0]
	}
	return nil
}

// child is the value of key in mapping m, or nil.
func child(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if c := child(m, key); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}
