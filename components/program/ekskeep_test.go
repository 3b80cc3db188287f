package program

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// ebsVolume is what the mocked EC2 holds: a volume, its tags' claim, and its state.
type ebsVolume struct {
	id, claim, zone, status string
	size                    int
	retaken                 bool // tagged spaceone.dev/reattached
	stack                   string
}

// ebsMocks answers the EBS lookups from vols, filtering as EC2 would on the filters used.
func ebsMocks(vols []ebsVolume, calls *int) *testkit.Mocks {
	m := eksMocks()
	match := func(args pulumi.MockCallArgs) []ebsVolume {
		*calls++
		var out []ebsVolume
		for _, v := range vols {
			ok := true
			for _, f := range args.Args["filters"].ArrayValue() {
				name := f.ObjectValue()["name"].StringValue()
				want := f.ObjectValue()["values"].ArrayValue()[0].StringValue()
				var have string
				switch name {
				case "tag:spaceone.dev/stack":
					have = v.stack
				case "tag:kubernetes.io/created-for/pvc/namespace":
					have = "spaceone"
				case "tag:kubernetes.io/created-for/pvc/name":
					have = v.claim
				case "tag:spaceone.dev/reattached":
					if v.retaken {
						have = "true"
					}
				case "status":
					have = v.status
				default:
					panic("unexpected filter " + name)
				}
				ok = ok && have == want
			}
			if ok {
				out = append(out, v)
			}
		}
		return out
	}
	m.Invokes["aws:ebs/getEbsVolumes:getEbsVolumes"] = func(args pulumi.MockCallArgs) resource.PropertyMap {
		var ids []any
		for _, v := range match(args) {
			ids = append(ids, v.id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids})
	}
	m.Invokes["aws:ebs/getVolume:getVolume"] = func(args pulumi.MockCallArgs) resource.PropertyMap {
		found := match(args)
		if len(found) == 0 {
			panic("getVolume without a match")
		}
		v := found[len(found)-1] // the list is oldest first: the newest
		return resource.NewPropertyMapFromMap(map[string]any{"volumeId": v.id, "availabilityZone": v.zone, "size": v.size})
	}
	return m
}

func runEKSWith(t *testing.T, m *testkit.Mocks, keep bool) {
	t.Helper()
	cfg := eksConfig()
	cfg["stores"] = map[string]any{"keepVolumes": keep}
	if err := testkit.RunWith(m, Run, cfg); err != nil {
		t.Fatal(err)
	}
}

const pvType = "kubernetes:core/v1:PersistentVolume"

func TestEKSGivesAKeptVolumeBackToItsClaim(t *testing.T) {
	calls := 0
	m := ebsMocks([]ebsVolume{
		{id: "vol-old", claim: "data-mongodb-0", zone: "us-east-1a", status: "available", size: 8, stack: "spaceone.test"},
		{id: "vol-new", claim: "data-mongodb-0", zone: "us-east-1b", status: "available", size: 10, stack: "spaceone.test"},
		{id: "vol-live", claim: "data-redis-0", zone: "us-east-1a", status: "in-use", size: 8, stack: "spaceone.test"},
		{id: "vol-other-stack", claim: "data-consul-0", zone: "us-east-1a", status: "available", size: 8, stack: "spaceone.prod"},
	}, &calls)
	runEKSWith(t, m, true)

	pvs := m.OfType(pvType)
	if len(pvs) != 1 {
		t.Fatalf("%d PersistentVolumes, want one: the newest kept mongodb volume (redis's is in use, consul's is another stack's)", len(pvs))
	}
	pv := pvs[0]
	checks := map[string]string{
		"metadata.name":                      "spaceone-kept-vol-new",
		"spec.csi.volumeHandle":              "vol-new",
		"spec.csi.driver":                    "ebs.csi.aws.com",
		"spec.claimRef.namespace":            "spaceone",
		"spec.claimRef.name":                 "data-mongodb-0",
		"spec.storageClassName":              "gp3",
		"spec.persistentVolumeReclaimPolicy": "Retain",
	}
	for path, want := range checks {
		if got := pv.String(path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if got := pv.Object("spec.capacity")["storage"].StringValue(); got != "10Gi" {
		t.Errorf("capacity %q, want the volume's 10Gi", got)
	}
	zone := pv.Array("spec.nodeAffinity.required.nodeSelectorTerms")[0].ObjectValue()["matchExpressions"].ArrayValue()[0].ObjectValue()
	if zone["key"].StringValue() != "topology.kubernetes.io/zone" || zone["values"].ArrayValue()[0].StringValue() != "us-east-1b" {
		t.Errorf("node affinity %v, want the volume's zone us-east-1b", zone)
	}
	tags := m.OfType("aws:ec2/tag:Tag")
	if len(tags) != 1 || tags[0].String("resourceId") != "vol-new" || tags[0].String("key") != "spaceone.dev/reattached" {
		t.Errorf("tags %v, want spaceone.dev/reattached on vol-new", tags)
	}
	// The claims are made after the volume exists: the namespaces depend on it.
	for _, ns := range m.OfType("kubernetes:core/v1:Namespace") {
		if !strings.Contains(strings.Join(ns.Deps, " "), "PersistentVolume::eks-kept-data-mongodb-0") {
			t.Errorf("namespace %s does not wait for the kept volume", ns.KubeName())
		}
	}
}

func TestEKSKeepsAVolumeItAlreadyGaveBack(t *testing.T) {
	// The up after the one that gave it back: the volume is in use, tagged reattached.
	calls := 0
	m := ebsMocks([]ebsVolume{
		{id: "vol-new", claim: "data-mongodb-0", zone: "us-east-1b", status: "in-use", size: 10, stack: "spaceone.test", retaken: true},
	}, &calls)
	runEKSWith(t, m, true)
	if pvs := m.OfType(pvType); len(pvs) != 1 || pvs[0].String("spec.csi.volumeHandle") != "vol-new" {
		t.Fatalf("PersistentVolumes %v: the volume given back must stay registered, or the next up would delete it", pvs)
	}
}

func TestEKSStampsItsVolumesAndLooksOnlyWhenKeeping(t *testing.T) {
	calls := 0
	m := ebsMocks(nil, &calls)
	runEKSWith(t, m, false)
	if calls != 0 {
		t.Errorf("%d EBS lookups without stores.keepVolumes", calls)
	}
	sc := m.OfType("kubernetes:storage.k8s.io/v1:StorageClass")
	if len(sc) != 1 || sc[0].Object("parameters")["tagSpecification_1"].StringValue() != "spaceone.dev/stack=spaceone.test" {
		t.Errorf("gp3 class parameters %v, want tagSpecification_1 spaceone.dev/stack=spaceone.test", sc[0].Object("parameters"))
	}
	if n := len(m.OfType(pvType)); n != 0 {
		t.Errorf("%d PersistentVolumes without kept volumes", n)
	}
}
