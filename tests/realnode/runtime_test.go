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
	if _, err := table.Lookup("spaceone/identity:1.10.4"); err != nil {
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
