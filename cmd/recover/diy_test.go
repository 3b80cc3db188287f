package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A lock is stale only when it is this machine's and its process is gone: a live process's
// lock, another machine's and an unreadable one are kept.
func TestOnlyLocksOfGoneProcessesAreStale(t *testing.T) {
	d := &diyStack{locks: t.TempDir()}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		f := filepath.Join(d.locks, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	gone := write("gone.json", fmt.Sprintf(`{"pid": 4194305, "hostname": %q}`, host)) // above Linux's pid_max
	write("live.json", fmt.Sprintf(`{"pid": %d, "hostname": %q}`, os.Getpid(), host))
	write("other.json", `{"pid": 4194305, "hostname": "another-machine"}`)
	write("cut.json", `{"pid": 41`)
	stale, err := d.staleLocks()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stale, []string{gone}) {
		t.Errorf("stale locks %v; want only %s", stale, gone)
	}
	// The stale one goes; the others stop the recovery, which would otherwise take a checkpoint
	// a running pulumi is writing for a cut one.
	err = removeStaleLocks(t.Context(), &recovery{stack: "sim", diy: d})
	if _, statErr := os.Stat(gone); !os.IsNotExist(statErr) || err == nil || !strings.Contains(err.Error(), "pulumi cancel --stack sim") {
		t.Errorf("with live locks left: %v (the stale lock: %v)", err, statErr)
	}
	for _, f := range []string{"live.json", "other.json", "cut.json"} {
		os.Remove(filepath.Join(d.locks, f))
	}
	if err := removeStaleLocks(t.Context(), &recovery{stack: "sim", diy: d}); err != nil {
		t.Errorf("with no lock left: %v", err)
	}
}

// Only a checkpoint that does not read back is the kill's leftover: it or its metadata file
// not whole JSON. A missing one is a stack not created yet.
func TestACheckpointIsCutWhenItOrItsMetadataIsNotWholeJSON(t *testing.T) {
	for _, c := range []struct {
		checkpoint, attrs string // "-" for no metadata file
		cut               bool
	}{
		{"", "-", true},
		{`{"version": 3, "checkpoint": {`, "-", true},
		{`{"version": 3}`, "", true},
		{`{"version": 3}`, `{"user.content_type": "applica`, true},
		{`{"version": 3}`, "-", false},
		{`{"version": 3}`, `{"user.content_type": "application/json"}`, false},
	} {
		d := &diyStack{checkpoint: filepath.Join(t.TempDir(), "s.json")}
		if err := os.WriteFile(d.checkpoint, []byte(c.checkpoint), 0o644); err != nil {
			t.Fatal(err)
		}
		if c.attrs != "-" {
			if err := os.WriteFile(d.checkpoint+attrs, []byte(c.attrs), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := d.cut(); got != c.cut {
			t.Errorf("checkpoint %q, metadata %q: cut %v, want %v", c.checkpoint, c.attrs, got, c.cut)
		}
	}
	if (&diyStack{checkpoint: filepath.Join(t.TempDir(), "missing.json")}).cut() {
		t.Error("a missing checkpoint counts as cut")
	}
}

// The stack's files are found under the backend's directory, with ~ as the home directory; other
// backends have none.
func TestDIYStackFilesFollowTheBackendURL(t *testing.T) {
	home, _ := os.UserHomeDir()
	for backend, want := range map[string]string{
		"file:///srv/state":            "/srv/state/.pulumi/stacks/spaceone/sim.json",
		"file:///srv/state?no_tmp_dir": "/srv/state/.pulumi/stacks/spaceone/sim.json",
		"file://~/state":               filepath.Join(home, "state/.pulumi/stacks/spaceone/sim.json"),
	} {
		d, err := diyStackOf(backend, "spaceone", "sim")
		if err != nil || d.checkpoint != want || d.locks != filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(want))), "locks", "organization", "spaceone", "sim") {
			t.Errorf("%s: %+v, %v; want checkpoint %s", backend, d, err, want)
		}
	}
	for _, backend := range []string{"", "https://api.pulumi.com", "s3://bucket"} {
		if d, err := diyStackOf(backend, "spaceone", "sim"); d != nil || err != nil {
			t.Errorf("%q: %+v, %v; want no DIY files", backend, d, err)
		}
	}
}
