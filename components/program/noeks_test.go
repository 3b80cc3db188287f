//go:build noeks

package program

import (
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// Run by scripts/test.sh with -tags noeks: the build make up uses for local stacks refuses an
// EKS stack with a message that says how to get the full build, before registering anything.
func TestNoEKSBuildRefusesAnEKSStackClearly(t *testing.T) {
	m, err := testkit.Run(Run, eksConfig())
	if err == nil {
		t.Fatal("an EKS stack ran in a build without EKS")
	}
	for _, want := range []string{"spaceone:clusterType", "noeks", "make up STACK="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	for _, r := range m.Touched() {
		if r.Type != "pulumi:pulumi:Stack" {
			t.Errorf("registered %s %s before refusing", r.Type, r.Name)
		}
	}
}

func TestNoEKSBuildStillDeploysALocalStack(t *testing.T) {
	m := run(t, simConfig())
	if len(m.OfType(stateful)) != 3 || len(m.OfType(deployment)) < 10 {
		t.Errorf("noeks build of the sim stack: %d StatefulSets, %d Deployments", len(m.OfType(stateful)), len(m.OfType(deployment)))
	}
}
