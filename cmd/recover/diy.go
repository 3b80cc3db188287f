package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// diyStack is where Pulumi's DIY backend keeps one stack's lock and checkpoint files
// (pkg/backend/diy in pulumi/pulumi, project mode: every stack under its project).
type diyStack struct {
	// locks holds one file per pulumi process that holds the stack.
	locks string
	// checkpoint is the stack's state; the backend writes checkpoint+".bak" before
	// replacing it, and gocloud's file store keeps metadata beside each (attrs).
	checkpoint string
}

// diyOrganization is the only organization a DIY backend knows.
const diyOrganization = "organization"

// diyStackOf locates a stack's files in the backend PULUMI_BACKEND_URL names; nil when that is
// not a DIY backend on this machine's filesystem.
func diyStackOf(backendURL, project, stack string) (*diyStack, error) {
	if !strings.HasPrefix(backendURL, "file://") {
		return nil, nil
	}
	u, err := url.Parse(backendURL)
	if err != nil {
		return nil, fmt.Errorf("reading PULUMI_BACKEND_URL %q: %w", backendURL, err)
	}
	root := u.Host + u.Path // file://~/x has "~" as its host, file:///x none
	if root == "~" || strings.HasPrefix(root, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("reading PULUMI_BACKEND_URL %q: %w", backendURL, err)
		}
		root = filepath.Join(home, strings.TrimPrefix(root, "~"))
	}
	meta := filepath.Join(root, ".pulumi")
	return &diyStack{
		locks:      filepath.Join(meta, "locks", diyOrganization, project, stack),
		checkpoint: filepath.Join(meta, "stacks", project, stack+".json"),
	}, nil
}

// lock is what a DIY backend's lock file says of the process that holds the stack.
type lock struct {
	Pid      int    `json:"pid"`
	Hostname string `json:"hostname"`
}

// staleLocks are the lock files whose process is known to be gone: it ran on this machine and
// no process has its pid. A lock of another machine, or one that cannot be read, is left alone.
func (d *diyStack) staleLocks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(d.locks, "*.json"))
	if err != nil {
		return nil, err
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var l lock
		if json.Unmarshal(b, &l) != nil || l.Hostname != host || l.Pid <= 0 {
			continue
		}
		if err := syscall.Kill(l.Pid, 0); errors.Is(err, syscall.ESRCH) {
			stale = append(stale, f)
		}
	}
	return stale, nil
}

// removeStaleLocks does what `pulumi cancel` does on this backend, for dead processes only and
// without reading the checkpoint (cancel reads it, and it may be the next thing to repair).
func removeStaleLocks(_ context.Context, r *recovery) error {
	if r.diy == nil {
		return nil
	}
	stale, err := r.diy.staleLocks()
	if err != nil {
		return err
	}
	for _, f := range stale {
		fmt.Printf("recover: stack %s is locked by a pulumi process that is gone (an interrupted run): removing its lock %s\n", r.stack, filepath.Base(f))
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	// A lock left is a running pulumi's, or another machine's: the stack is in its hands, and
	// a checkpoint it is writing must not be taken for a cut one.
	if left, _ := filepath.Glob(filepath.Join(r.diy.locks, "*.json")); len(left) > 0 {
		return fmt.Errorf("stack %s is locked by a pulumi process that still runs, here or on another machine (%s): "+
			"let it finish; if it is gone, run `pulumi cancel --stack %s`", r.stack, filepath.Base(left[0]), r.stack)
	}
	return nil
}

// attrs is the suffix of the file in which gocloud's file store (the DIY backend's) keeps a
// file's metadata, as JSON, beside it.
const attrs = ".attrs"

// whole tells whether a file of the store reads back: it and, when it has one, its metadata
// file are whole JSON. A kill cuts either: each is truncated, then written.
func whole(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil || !json.Valid(b) {
		return false
	}
	a, err := os.ReadFile(path + attrs)
	return os.IsNotExist(err) || err == nil && json.Valid(a)
}

// cut tells whether the checkpoint is the kill's leftover: it exists but does not read back.
// A whole one that pulumi refuses is another problem, not repaired here.
func (d *diyStack) cut() bool {
	_, err := os.Stat(d.checkpoint)
	return err == nil && !whole(d.checkpoint)
}

// move renames a file of the store and its metadata file; a missing metadata file is no error.
func move(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if err := os.Rename(from+attrs, to+attrs); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// copyFile copies a file of the store and its metadata file, if any.
func copyFile(from, to string) error {
	for _, suffix := range []string{"", attrs} {
		b, err := os.ReadFile(from + suffix)
		if suffix == attrs && os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(to+suffix, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// repairCheckpoint puts the backend's backup of a cut checkpoint in its place, or, when that
// is cut as well or missing, starts the stack's state afresh. The cut file is kept beside it.
func repairCheckpoint(ctx context.Context, r *recovery) error {
	d := r.diy
	if d == nil || !d.cut() {
		return nil
	}
	broken := filepath.Base(d.checkpoint) + ".broken"
	if err := move(d.checkpoint, d.checkpoint+".broken"); err != nil {
		return err
	}
	if whole(d.checkpoint + ".bak") {
		if err := copyFile(d.checkpoint+".bak", d.checkpoint); err != nil {
			return err
		}
		if _, err := r.ws.ExportStack(ctx, r.stack); err == nil {
			fmt.Printf("recover: the checkpoint of stack %s was cut short: restored the backend's backup of it (the cut file is %s)\n", r.stack, broken)
			return nil
		}
	}
	// Nothing readable is left: the stack's state starts afresh, and the next up adopts the
	// objects in the cluster (one stable field manager; passwords derived from the credential
	// seed, which lives in the stack's configuration, not in its state).
	for _, f := range []string{d.checkpoint, d.checkpoint + attrs} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	fmt.Printf("recover: the checkpoint of stack %s was cut short and has no readable backup: starting its state afresh (the next up adopts what exists; the cut file is %s)\n", r.stack, broken)
	return r.ws.CreateStack(ctx, r.stack)
}
