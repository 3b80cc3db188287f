package main

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// A container runs as the pod's securityContext says, the container's own winning; a
// container that must not run as root but would is refused, as a kubelet refuses it.
func TestIdentityOfAContainer(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	yes := true
	store := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{
		RunAsNonRoot: &yes, RunAsUser: i(999), RunAsGroup: i(999), FSGroup: i(999), SupplementalGroups: []int64{5}}}}
	c := &corev1.Container{Name: "mongodb", SecurityContext: &corev1.SecurityContext{
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}
	id, err := identityOf(store, c)
	if err != nil || id.UID != 999 || id.GID != 999 || !slices.Equal(id.Groups, []int64{999, 5}) || !id.DropAll {
		t.Errorf("store container: %+v, %v", id, err)
	}
	if got := strings.Join(id.nsenterArgs(), " "); got != "-S 999 -G 999" {
		t.Errorf("an exec probe enters as %q", got)
	}
	c.SecurityContext.RunAsUser = i(100)
	if id, _ := identityOf(store, c); id.UID != 100 {
		t.Errorf("the container's runAsUser does not win: %+v", id)
	}
	c.SecurityContext.RunAsUser = i(0)
	if _, err := identityOf(store, c); err == nil || !strings.Contains(err.Error(), "runAsNonRoot") {
		t.Errorf("root under runAsNonRoot was not refused: %v", err)
	}
	// A SpaceONE service: root (its image has no USER), no capability.
	id, err = identityOf(&corev1.Pod{}, &corev1.Container{Name: "identity", SecurityContext: &corev1.SecurityContext{
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}})
	if err != nil || id.UID != 0 || !id.DropAll || id.nsenterArgs() != nil {
		t.Errorf("service container: %+v, %v", id, err)
	}
}
