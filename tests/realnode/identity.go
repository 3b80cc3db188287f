package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// Identity is who a container's process runs as, as a kubelet and a container runtime make
// it from the pod's securityContext over the image's user: the runtimes of this node have no
// USER (every image they stand in for runs as root unless its pod says otherwise).
type Identity struct {
	UID    int64   `json:"uid"`
	GID    int64   `json:"gid"`
	Groups []int64 `json:"groups,omitempty"` // fsGroup and the supplemental groups
	// DropAll is capabilities.drop: [ALL]: the process and what it starts keep no capability.
	DropAll bool `json:"dropAll,omitempty"`
}

// identityOf reads the identity of container c of pod: the container's securityContext over
// the pod's. A container that must not run as root but would is refused, as a kubelet refuses
// it (CreateContainerConfigError).
func identityOf(pod *corev1.Pod, c *corev1.Container) (Identity, error) {
	var id Identity
	var nonRoot *bool
	if ps := pod.Spec.SecurityContext; ps != nil {
		if ps.RunAsUser != nil {
			id.UID = *ps.RunAsUser
		}
		if ps.RunAsGroup != nil {
			id.GID = *ps.RunAsGroup
		}
		nonRoot = ps.RunAsNonRoot
		if ps.FSGroup != nil {
			id.Groups = append(id.Groups, *ps.FSGroup)
		}
		id.Groups = append(id.Groups, ps.SupplementalGroups...)
	}
	if cs := c.SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			id.UID = *cs.RunAsUser
		}
		if cs.RunAsGroup != nil {
			id.GID = *cs.RunAsGroup
		}
		if cs.RunAsNonRoot != nil {
			nonRoot = cs.RunAsNonRoot
		}
		if cs.Capabilities != nil {
			id.DropAll = slices.Contains(cs.Capabilities.Drop, "ALL")
		}
	}
	if nonRoot != nil && *nonRoot && id.UID == 0 {
		return Identity{}, fmt.Errorf("container %s has runAsNonRoot and image will run as root", c.Name)
	}
	return id, nil
}

// nsenterArgs are nsenter's options that make a command started in the container (an exec
// probe) run as the container's process does.
func (id Identity) nsenterArgs() []string {
	if id.UID == 0 && id.GID == 0 {
		return nil
	}
	return []string{"-S", strconv.FormatInt(id.UID, 10), "-G", strconv.FormatInt(id.GID, 10)}
}

// become drops what the process may not keep and switches to the identity; the next exec
// then runs as the container's process. The bounding set goes first (it needs root's
// CAP_SETPCAP): after it, no exec regains a capability, root's included. syscall's Set*
// change every thread of this Go process, not only the calling one.
func (id Identity) become() error {
	if id.DropAll || id.UID != 0 {
		last, err := lastCap()
		if err != nil {
			return err
		}
		for c := 0; c <= last; c++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d: %w", c, err)
			}
		}
	}
	groups := make([]int, 0, len(id.Groups))
	for _, g := range id.Groups {
		groups = append(groups, int(g))
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if err := syscall.Setgid(int(id.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", id.GID, err)
	}
	if err := syscall.Setuid(int(id.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", id.UID, err)
	}
	return nil
}

func lastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// giveToFSGroup makes a volume's files the pod's fsGroup's, as a kubelet does for the
// volumes it manages (emptyDir, ConfigMap, Secret, projected): group owner fsGroup, group
// read (and write, where the owner may write) on every file, setgid directories.
func giveToFSGroup(dir string, gid int64) error {
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil
		}
		mode := fi.Mode().Perm() | 0o040
		if fi.Mode().Perm()&0o200 != 0 {
			mode |= 0o020
		}
		if fi.IsDir() {
			mode |= 0o010 | os.ModeSetgid
		}
		return os.Chmod(p, mode)
	})
}
