package tests

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/spaceone-pulumi/spaceone/components/volumes"
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
			got[s] = storeVolume(t, s)
		}
		return got
	}
	p.run(t, "up", "--yes", "--skip-preview")
	before := volumeOf()
	rootPw := mongoRootPassword(t)

	p.run(t, "destroy", "--yes", "--skip-preview")
	for _, ns := range []string{spaceoneNS, pluginNS} {
		if exists(t, api(t).CoreV1().Namespaces().Get, ns) {
			t.Errorf("namespace %s still exists after destroy", ns)
		}
	}
	for s, pv := range before {
		v := get(t, api(t).CoreV1().PersistentVolumes().Get, pv)
		claim := volumes.StoreClaim(spaceoneNS, s)
		if ref := v.Spec.ClaimRef; v.Status.Phase != corev1.VolumeReleased || ref == nil || ref.Namespace != claim.Namespace || ref.Name != claim.Name {
			t.Errorf("%s's volume %s after destroy: %s, claimed by %+v; want Released, claimed by %s (kept, its claim gone)", s, pv, v.Status.Phase, ref, claim)
		}
	}

	out := p.run(t, "up", "--yes", "--skip-preview")
	for s, pv := range before {
		if claim := volumes.StoreClaim(spaceoneNS, s); !strings.Contains(out, "volume "+pv+" (kept by an earlier destroy) is given back to "+claim.String()) {
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
		if ready := get(t, api(t).AppsV1().StatefulSets(spaceoneNS).Get, s).Status.ReadyReplicas; ready != 1 {
			t.Errorf("%s not ready on its kept volume: %d ready", s, ready)
		}
	}
	// The kept MongoDB data was initialised with the root password: the new Secret must hold it.
	if pw := mongoRootPassword(t); pw != rootPw {
		t.Error("the MongoDB root password changed across destroy and up: the kept data would be locked out")
	}
	p.run(t, "preview", "--expect-no-changes")
}
