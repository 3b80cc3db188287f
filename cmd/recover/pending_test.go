package main

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
)

// The objects an interrupted run was creating are imported by the IDs the kubernetes provider
// gives them; other pending operations, other providers' resources and objects whose name is
// not known yet are left to be cleared.
func TestPendingCreatesAreTheKubernetesObjectsBeingCreated(t *testing.T) {
	state := []byte(`{"pending_operations": [
	  {"type": "creating", "resource": {"urn": "urn:a", "type": "kubernetes:core/v1:Secret", "inputs": {"metadata": {"name": "mongodb-root", "namespace": "spaceone"}}}},
	  {"type": "creating", "resource": {"urn": "urn:b", "type": "kubernetes:core/v1:Namespace", "inputs": {"metadata": {"name": "spaceone"}}}},
	  {"type": "updating", "resource": {"urn": "urn:c", "type": "kubernetes:apps/v1:Deployment", "inputs": {"metadata": {"name": "identity", "namespace": "spaceone"}}}},
	  {"type": "creating", "resource": {"urn": "urn:d", "type": "random:index/randomPassword:RandomPassword", "inputs": {}}},
	  {"type": "creating", "resource": {"urn": "urn:e", "type": "kubernetes:batch/v1:Job", "inputs": {"metadata": {"namespace": "spaceone"}}}},
	  {"type": "creating", "resource": {"urn": "urn:f", "type": "kubernetes:core/v1:ConfigMap", "inputs": {"metadata": {"name": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}, "namespace": "spaceone"}}}}
	]}`)
	creates, pending, err := pendingCreates(state)
	if err != nil {
		t.Fatal(err)
	}
	want := []optrefresh.PendingCreate{{URN: "urn:a", ID: "spaceone/mongodb-root"}, {URN: "urn:b", ID: "spaceone"}}
	if pending != 6 || !slices.Equal(creates, want) {
		t.Errorf("%d pending, imports %v; want 6, %v", pending, creates, want)
	}
	if creates, pending, err := pendingCreates([]byte(`{"resources": []}`)); err != nil || pending != 0 || creates != nil {
		t.Errorf("no pending operations: %v %d %v", creates, pending, err)
	}
}
