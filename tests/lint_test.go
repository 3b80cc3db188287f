package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	renderMu sync.Mutex
	renders  = map[string]string{}
)

// rendered runs `make render STACK=stack` once per test binary and returns the manifest
// files; "stack@release" renders the stack with another release (make render RELEASE=).
func rendered(t *testing.T, stack string) []string {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	dir, ok := renders[stack]
	if !ok {
		dir = filepath.Join(simDir, "render-"+strings.ReplaceAll(stack, "@", "-"))
		name, release, _ := strings.Cut(stack, "@")
		cmd := exec.Command("make", "-s", "render", "STACK="+name, "OUT="+dir, "RELEASE="+release)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make render STACK=%s: %v\n%s", stack, err, b)
		}
		renders[stack] = dir
	}
	files, _ := filepath.Glob(filepath.Join(dir, "1-manifest", "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("make render STACK=%s wrote no manifests", stack)
	}
	return files
}

// kubeScoreIgnores reads scripts/kube-score.ignore: every switched-off check, with its reason.
func kubeScoreIgnores(t *testing.T) []string {
	f, err := os.Open(filepath.Join(root, "scripts", "kube-score.ignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, ok := strings.Cut(line, "#")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Errorf("kube-score.ignore: %q has no reason", line)
		}
		ids = append(ids, strings.TrimSpace(id))
	}
	return ids
}

// TestKubeScoreFindsNothingCritical lints every stack's rendered manifests.
func TestKubeScoreFindsNothingCritical(t *testing.T) {
	needSim(t)
	bin := filepath.Join(toolPath("KUBE_SCORE_DIR"), "kube-score")
	ignores := kubeScoreIgnores(t)
	for _, stack := range []string{"minikube", "sim", "eks", "minikube@1.12.12"} {
		files := rendered(t, stack)
		args := append([]string{"score", "--output-format", "ci", "--ignore-test", strings.Join(ignores, ",")}, files...)
		out, _ := exec.Command(bin, args...).CombinedOutput() // exits non-zero on any finding
		var critical, ok int
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, "[CRITICAL]"):
				critical++
				t.Errorf("%s: %s", stack, line)
			case strings.HasPrefix(line, "[OK]"):
				ok++
			}
		}
		if ok < 100 {
			t.Errorf("%s: kube-score reported only %d passing checks; did it run?\n%s", stack, ok, out)
		}
		t.Logf("%s: %d files, %d checks OK, %d critical", stack, len(files), ok, critical)
	}
}

// TestRenderedManifestsHoldNoClearSecret: rendered Secrets carry no value at all (make render
// redacts them) and never stringData, so no password is in any rendered file.
func TestRenderedManifestsHoldNoClearSecret(t *testing.T) {
	needSim(t)
	files := rendered(t, "minikube")
	values := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(filepath.Base(f), "v1-secret-") {
			continue
		}
		if strings.Contains(string(b), "stringData") {
			t.Errorf("%s uses stringData: its values would be rendered in clear", filepath.Base(f))
		}
		// make render writes every value of a Secret's data as "redacted" (base64): the
		// generated passwords, the database logins and the initializer's vars are in none of the files.
		inData := false
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case line == "data:":
				inData = true
			case !strings.HasPrefix(line, "  "):
				inData = false
			case inData:
				values++
				if _, v, _ := strings.Cut(line, ": "); strings.Trim(v, `"`) != "cmVkYWN0ZWQ=" {
					t.Errorf("%s: a Secret value is rendered: %s", filepath.Base(f), strings.SplitN(strings.TrimSpace(line), ":", 2)[0])
				}
			}
		}
	}
	if values < 10 {
		t.Fatalf("found %d Secret values in the render, want the MongoDB root, the admin password, the logins...", values)
	}
}

// TestRenderedRelease112 is `make render RELEASE=1.12.12`: no Consul anywhere, every image a
// pinned cloudforet/* one (or a store's), and no config that reads the key from Consul.
func TestRenderedRelease112(t *testing.T) {
	needSim(t)
	files := rendered(t, "minikube@1.12.12")
	pinned := regexp.MustCompile(`^(cloudforet/[a-z-]+:\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?|mongo:6\.0\.13|redis:7\.2\.4)$`)
	images := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		text := string(b)
		// initialize.py and the backup scripts are one script for every release (their env says
		// which stores they read and write)
		if !strings.Contains(text, "initialize.py:") && !strings.Contains(text, "spaceone_backup.py:") && strings.Contains(strings.ToLower(text), "consul") {
			t.Errorf("%s mentions Consul", filepath.Base(f))
		}
		for _, m := range regexp.MustCompile(`(?m)^\s+image: (\S+)$`).FindAllStringSubmatch(text, -1) {
			images++
			if !pinned.MatchString(strings.Trim(m[1], `"`)) {
				t.Errorf("%s runs %s, not a pinned cloudforet/* image", filepath.Base(f), m[1])
			}
		}
	}
	if images < 20 {
		t.Errorf("found %d images in the render", images)
	}
}

// TestShellScriptsPassShellcheck runs shellcheck (pinned: scripts/runtimes/requirements-lint.txt)
// on every shell script of the checkout: the files git knows with a bash or sh shebang, and
// those only sourced, which say `# shellcheck shell=bash`. Sourced files are followed (-x) from
// the sourcing script's directory.
func TestShellScriptsPassShellcheck(t *testing.T) {
	if !enabled {
		t.Skip("integration test: run with `make test` (it installs shellcheck)")
	}
	shellcheck := filepath.Join(toolPath("SPACEONE_CACHE"), "runtimes/python/lint/bin/shellcheck")
	listed, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("listing the checkout's files: %v", err)
	}
	shell := regexp.MustCompile(`\A(#!\S*(/bash|/sh|env bash)\b|# shellcheck shell=(bash|sh)\b)`)
	var scripts []string
	for _, f := range strings.Split(strings.TrimRight(string(listed), "\x00"), "\x00") {
		head := make([]byte, 64)
		fh, err := os.Open(filepath.Join(root, f))
		if err != nil {
			continue // listed but deleted in this work tree
		}
		n, _ := fh.Read(head)
		fh.Close()
		if shell.Match(head[:n]) {
			scripts = append(scripts, f)
		}
	}
	if len(scripts) < 20 {
		t.Fatalf("found %d shell scripts, the checkout has more than 20: %v", len(scripts), scripts)
	}
	cmd := exec.Command(shellcheck, append([]string{"--external-sources", "--source-path=SCRIPTDIR"}, scripts...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck (%d scripts): %v\n%s", len(scripts), err, out)
	}
	t.Logf("shellcheck: %d scripts clean", len(scripts))
}
