package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The pod's command and args replace the image's entrypoint and CMD as a container runtime does.
func TestArgvFollowsContainerRuntimeRules(t *testing.T) {
	rt := Runtime{Entrypoint: []string{"spaceone"}, Cmd: []string{"grpc", "spaceone.identity"}}
	for _, c := range []struct {
		name          string
		command, args []string
		want          []string
	}{
		{"image defaults", nil, nil, []string{"spaceone", "grpc", "spaceone.identity"}},
		{"args replace CMD", nil, []string{"scheduler", "x"}, []string{"spaceone", "scheduler", "x"}},
		{"command drops CMD", []string{"sh", "-c", "true"}, nil, []string{"sh", "-c", "true"}},
		{"command and args", []string{"spaceone"}, []string{"scheduler"}, []string{"spaceone", "scheduler"}},
	} {
		got := Argv(rt, &corev1.Container{Command: c.command, Args: c.args})
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// An image with no stand-in is an error naming the image; the embedded table decodes strictly.
func TestTableLookup(t *testing.T) {
	table, err := LoadTable(defaultTable, "/runtimes", Sources{Standins: "/standins", Plugins: "/plugins"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := table.Lookup("spaceone/repository:1.10.4"); err != nil {
		t.Error(err)
	}
	_, err = table.Lookup("spaceone/console:1.10.4.6")
	var nr NoRuntimeError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "spaceone/console:1.10.4.6") {
		t.Errorf("want a NoRuntimeError naming the image, got %v", err)
	}
	if _, err := table.Lookup("10.1.0.1:5000/spaceone-pulumi/fakecloud-collector:1.12.12"); err == nil {
		t.Error("an image of the stand-in registry was found under another registry's address")
	}
	reg, err := LoadTable(defaultTable, "/runtimes", Sources{Plugins: "/plugins", Registry: "10.1.0.1:5000"})
	if err != nil {
		t.Fatal(err)
	}
	if rt, err := reg.Lookup("10.1.0.1:5000/spaceone-pulumi/fakecloud-collector:1.12.12"); err != nil || !slices.Contains(rt.Cmd, "/plugins/fakecloud") {
		t.Errorf("the test plugin under the registry's address: %+v, %v (want its code under /plugins)", rt, err)
	}
	if _, err := LoadTable([]byte("images: {}\nimagez: {}\n"), "", Sources{}); err == nil {
		t.Error("an unknown key in the table was accepted")
	}
}

// The images the tests derive from the catalogue fill the table's gaps; the table's own
// entries are the exceptions and win.
func TestAddKeepsTheTablesOwnEntries(t *testing.T) {
	table, err := LoadTable(defaultTable, "/runtimes", Sources{HubCA: "/ca.pem"})
	if err != nil {
		t.Fatal(err)
	}
	more, err := LoadTable([]byte(`images:
  spaceone/identity:1.10.4: {path: [python/1.10.4/bin], entrypoint: [spaceone], cmd: [grpc, spaceone.identity, -m, /opt]}
  spaceone/repository:1.10.4: {path: [python/1.10.4/bin], entrypoint: [spaceone], cmd: [grpc, spaceone.repository, -m, /opt]}
`), "/runtimes", Sources{})
	if err != nil {
		t.Fatal(err)
	}
	table.Add(more)
	if rt, err := table.Lookup("spaceone/identity:1.10.4"); err != nil || !slices.Contains(rt.Cmd, "spaceone.identity") {
		t.Errorf("the added image: %+v, %v", rt, err)
	}
	if rt, err := table.Lookup("spaceone/repository:1.10.4"); err != nil || rt.Env["REQUESTS_CA_BUNDLE"] != "/ca.pem" {
		t.Errorf("the table's own repository entry (its Docker Hub CA) was replaced: %+v, %v", rt, err)
	}
}
