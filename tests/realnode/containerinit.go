package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// ContainerSpec is what `realnode container-init` needs to become one container's process.
// The agent writes it to a file and starts
//
//	nsenter --net=<pod netns> unshare --mount --uts --propagation private realnode container-init <file>
//
// so this runs in the pod's network namespace and a mount namespace of its own.
type ContainerSpec struct {
	Root     string  `json:"root"`     // a scratch directory that becomes the process's /
	Scratch  string  `json:"scratch"`  // where overlay upper/work directories go
	Hostname string  `json:"hostname"` // the pod's hostname
	Hosts    string  `json:"hosts"`    // file bound at /etc/hosts (Service names → addresses)
	Resolv   string  `json:"resolv"`   // file bound at /etc/resolv.conf
	Mounts   []Mount `json:"mounts"`   // the pod's volumeMounts, resolved to host paths
	Argv     []string
	Env      []string
	WorkDir  string   `json:"workDir"`
	Identity Identity `json:"identity"` // who the process runs as
}

// Mount binds a host path at a path inside the container.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly"`
}

// containerInit builds the container's root from the host's top-level directories (bound
// recursively), binds the pod's volumes at their mount paths, chroots and execs the command.
// A mount path under a host directory that lacks it gets an overlay on the nearest existing
// ancestor, so nothing is ever created on the host outside the scratch directory.
func containerInit(specFile string) error {
	b, err := os.ReadFile(specFile)
	if err != nil {
		return err
	}
	var s ContainerSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("reading %s: %w", specFile, err)
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	hostDirs := map[string]bool{}
	for _, e := range entries {
		src := "/" + e.Name()
		dst := filepath.Join(s.Root, e.Name())
		switch {
		case e.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, dst); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
		case e.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("binding %s: %w", src, err)
			}
			hostDirs[e.Name()] = true
		}
	}
	overlays := map[string]bool{} // host-side paths covered by an overlay: writable
	underOverlay := func(p string) bool {
		for ; p != s.Root && p != "/"; p = filepath.Dir(p) {
			if overlays[p] {
				return true
			}
		}
		return false
	}
	// makePath creates dir (a path inside the container) and returns its host-side path.
	makePath := func(dir string) (string, error) {
		// Symlinks resolve inside the root, as in the container: /var/run -> /run must not
		// lead to the machine's /run (it did, and the service-account token was out of sight).
		full, err := securejoin.SecureJoin(s.Root, dir)
		if err != nil {
			return "", fmt.Errorf("mount path %s: %w", dir, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(full, s.Root), "/")
		if _, err := os.Stat(full); err == nil {
			return full, nil
		}
		top := strings.SplitN(rel, "/", 2)[0]
		if hostDirs[top] && !underOverlay(full) {
			// The nearest existing ancestor is a host directory: cover it with an overlay
			// whose upper layer is scratch space, then create the rest there.
			anc := full
			for {
				anc = filepath.Dir(anc)
				if _, err := os.Stat(anc); err == nil {
					break
				}
			}
			if err := overlayOn(s.Root, s.Scratch, strings.TrimPrefix(anc, s.Root), overlays); err != nil {
				return "", fmt.Errorf("%w (for %s)", err, dir)
			}
		}
		return full, os.MkdirAll(full, 0o755)
	}
	if s.Identity.UID != 0 {
		// The runtimes and the stand-ins live on this machine, often under /root (0700): as
		// an image's own files are its users', they must be reachable by the container's
		// user. Over an overlay, so the machine's /root keeps its mode.
		if err := overlayOn(s.Root, s.Scratch, "/root", overlays); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(s.Root, "root"), 0o711); err != nil {
			return fmt.Errorf("making /root passable: %w", err)
		}
	}
	for _, m := range s.Mounts {
		st, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("volume source for %s: %w", m.Target, err)
		}
		var target string
		if st.IsDir() {
			if target, err = makePath(m.Target); err != nil {
				return err
			}
		} else {
			parent, err := makePath(filepath.Dir(m.Target))
			if err != nil {
				return err
			}
			target = filepath.Join(parent, filepath.Base(m.Target))
			if _, err := os.Stat(target); err != nil {
				if err := os.WriteFile(target, nil, 0o644); err != nil {
					return err
				}
			}
		}
		if err := unix.Mount(m.Source, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding %s at %s: %w", m.Source, m.Target, err)
		}
		if m.ReadOnly {
			if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("read-only %s: %w", m.Target, err)
			}
		}
	}
	if s.WorkDir != "" {
		// The image's WORKDIR exists in the image (a Dockerfile's WORKDIR makes it), empty
		// unless the image put files there: made here as a mount path is, under an overlay.
		if _, err := makePath(s.WorkDir); err != nil {
			return fmt.Errorf("working directory %s: %w", s.WorkDir, err)
		}
	}
	for src, dst := range map[string]string{s.Hosts: "etc/hosts", s.Resolv: "etc/resolv.conf"} {
		if src == "" {
			continue
		}
		if err := unix.Mount(src, filepath.Join(s.Root, dst), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding /%s: %w", dst, err)
		}
	}
	if err := unix.Chroot(s.Root); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("working directory %s: %w", wd, err)
	}
	if len(s.Argv) == 0 {
		return errors.New("no command: the pod gives none and the image's runtime has no entrypoint")
	}
	for _, kv := range s.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v) // exec.LookPath reads PATH from here
		}
	}
	if err := s.Identity.become(); err != nil {
		return err
	}
	bin, err := exec.LookPath(s.Argv[0])
	if err != nil {
		return fmt.Errorf("command %q: %w (PATH=%s)", s.Argv[0], err, os.Getenv("PATH"))
	}
	return syscall.Exec(bin, s.Argv, s.Env)
}

// overlayOn covers dir (a path inside the container root) with an overlay whose upper layer
// is scratch space: what the container writes or changes there stays out of the machine's
// own directory.
func overlayOn(root, scratch, dir string, overlays map[string]bool) error {
	anc := filepath.Join(root, dir)
	if overlays[anc] {
		return nil
	}
	up := filepath.Join(scratch, fmt.Sprintf("overlay-%d", len(overlays)))
	if err := os.MkdirAll(up+"/upper", 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(up+"/work", 0o755); err != nil {
		return err
	}
	opts := "lowerdir=" + anc + ",upperdir=" + up + "/upper,workdir=" + up + "/work"
	if err := unix.Mount("overlay", anc, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay on %s: %w", dir, err)
	}
	overlays[anc] = true
	return nil
}
