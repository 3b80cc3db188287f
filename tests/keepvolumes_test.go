package tests

import (
	"strings"
	"testing"
)

// TestKeptVolumesComeBack: with stores.keepVolumes, destroy removes every SpaceONE object and
// both namespaces but keeps the stores' volumes, and the next up binds each store's new claim
// to the very volume it had before.
func TestKeptVolumesComeBack(t *testing.T) {
	needSim(t)
	// Start from a pool with no volume reserved for anyone.
	if out, err := sim("volumes"); err != nil {
		t.Fatalf("sim volumes: %v\n%s", err, out)
	}
	p := newProject(t, "sim", simStackConfig()+"    keepVolumes: true\n")
	t.Cleanup(func() {
		p.try(t, "destroy", "--yes", "--skip-preview")
		if out, err := sim("volumes"); err != nil { // hand the kept volumes back to the pool
			t.Logf("sim volumes: %v\n%s", err, out)
		}
	})
	stores := []string{"mongodb", "redis", "consul"}
	volumeOf := func() map[string]string {
		got := map[string]string{}
		for _, s := range stores {
			got[s] = mustKubectl(t, "-n", "spaceone", "get", "pvc", "data-"+s+"-0", "-o", "jsonpath={.spec.volumeName}")
		}
		return got
	}
	p.run(t, "up", "--yes", "--skip-preview")
	before := volumeOf()
	rootPw := mongoRootPassword(t)

	p.run(t, "destroy", "--yes", "--skip-preview")
	for _, ns := range []string{"spaceone", "root-supervisor"} {
		if out, err := kubectl(t, "get", "namespace", ns); err == nil {
			t.Errorf("namespace %s still exists after destroy: %s", ns, out)
		}
	}
	for s, pv := range before {
		got := mustKubectl(t, "get", "pv", pv, "-o", "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}")
		if want := "Released spaceone/data-" + s + "-0"; got != want {
			t.Errorf("%s's volume %s after destroy: %q, want %q (kept, its claim gone)", s, pv, got, want)
		}
	}

	out := p.run(t, "up", "--yes", "--skip-preview")
	for s, pv := range before {
		if !strings.Contains(out, "volume "+pv+" (kept by an earlier destroy) is given back to spaceone/data-"+s+"-0") {
			t.Errorf("up did not say it gives %s back to %s:\n%s", pv, s, out)
		}
	}
	after := volumeOf()
	for _, s := range stores {
		if after[s] != before[s] {
			t.Errorf("%s's claim is bound to %q after the new up, want its kept volume %q", s, after[s], before[s])
		}
	}
	for _, s := range stores {
		if ready := mustKubectl(t, "-n", "spaceone", "get", "statefulset", s, "-o", "jsonpath={.status.readyReplicas}"); ready != "1" {
			t.Errorf("%s not ready on its kept volume: readyReplicas %q", s, ready)
		}
	}
	// The kept MongoDB data was initialised with the root password: the new Secret must hold it.
	if pw := mongoRootPassword(t); pw != rootPw {
		t.Error("the MongoDB root password changed across destroy and up: the kept data would be locked out")
	}
	p.run(t, "preview", "--expect-no-changes")
}
