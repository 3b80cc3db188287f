package tests

import (
	"strings"
	"testing"
)

// TestReleaseChangeIsGuarded runs the release-change guard on the real engine: the program
// reads the release its stack deployed through a reference to its own stack (the file
// backend's state). A preview shows the change and warns; up refuses it and changes nothing
// until the user confirms the migration; then up switches the stack to 1.12 (no Consul).
func TestReleaseChangeIsGuarded(t *testing.T) {
	needSim(t)
	p := newProject(t, "relchange", simStackConfig())
	p.run(t, "up", "--yes", "--skip-preview")
	image := func() string {
		return get(t, api(t).AppsV1().Deployments(spaceoneNS).Get, "identity").Spec.Template.Spec.Containers[0].Image
	}
	if got := image(); got != "spaceone/identity:1.10.4" {
		t.Fatalf("identity runs %q after the 1.10.4 install", got)
	}

	p.run(t, "config", "set", "release", "1.12.12")
	p.run(t, "config", "rm", "--path", "stores.consul") // 1.12 has no Consul
	preview := p.run(t, "preview", "--diff")
	for _, want := range []string{"runs SpaceONE 1.10.4", "up refuses this", "cloudforet/identity:1.12.4"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview does not show %q:\n%s", want, tail(preview, 40))
		}
	}
	out, err := p.try(t, "up", "--yes", "--skip-preview")
	if err == nil {
		t.Fatalf("up switched a stack with 1.10.4 data to 1.12.12 unconfirmed:\n%s", tail(out, 20))
	}
	for _, want := range []string{"up moves the data itself", "pulumi config set confirmReleaseChange '1.10.4->1.12.12'", "Nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, tail(out, 30))
		}
	}
	if got := image(); got != "spaceone/identity:1.10.4" {
		t.Errorf("after the refusal identity runs %q", got)
	}
	get(t, api(t).AppsV1().StatefulSets(spaceoneNS).Get, "consul") // still there

	p.run(t, "config", "set", "confirmReleaseChange", "1.10.4->1.12.12")
	p.run(t, "up", "--yes", "--skip-preview")
	if got := image(); got != "cloudforet/identity:1.12.4" {
		t.Errorf("after the confirmed change identity runs %q", got)
	}
	if exists(t, api(t).AppsV1().StatefulSets(spaceoneNS).Get, "consul") {
		t.Error("Consul is still deployed on 1.12")
	}
	// The release now recorded is 1.12.12: the same release again needs no confirmation.
	p.run(t, "config", "rm", "confirmReleaseChange")
	p.run(t, "up", "--yes", "--skip-preview")
	p.run(t, "destroy", "--yes", "--skip-preview")
}
