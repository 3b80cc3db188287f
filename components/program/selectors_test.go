package program

import (
	"fmt"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// Every Service's selector matches the pods of exactly one workload (Deployment, StatefulSet
// or Job), for every release: a Job or another workload labelled like a store or a service
// would be one of its endpoints, and callers would reach a pod that does not serve.
func TestEveryServiceSelectsOneWorkload(t *testing.T) {
	forEachRelease(t, func(t *testing.T, _ *catalog.Release, cfg testkit.Config) {
		m := run(t, cfg)
		type pods struct {
			workload string
			labels   map[string]string
		}
		var all []pods
		for _, typ := range []string{deployment, stateful, "kubernetes:batch/v1:Job"} {
			for _, r := range m.OfType(typ) {
				l := map[string]string{}
				for k, v := range r.Object("spec.template.metadata.labels") {
					l[string(k)] = v.StringValue()
				}
				all = append(all, pods{typ + "/" + r.Name, l})
			}
		}
		for _, svc := range m.OfType("kubernetes:core/v1:Service") {
			sel := svc.Object("spec.selector")
			if len(sel) == 0 {
				continue // no selector: an ExternalName or a laptop's EndpointSlice
			}
			var matched []string
			for _, p := range all {
				ok := true
				for k, v := range sel {
					if p.labels[string(k)] != v.StringValue() {
						ok = false
					}
				}
				if ok {
					matched = append(matched, p.workload)
				}
			}
			if len(matched) != 1 {
				t.Errorf("Service %s selects the pods of %d workloads %v, want 1 (selector %s)", svc.Name, len(matched), matched, fmt.Sprint(sel))
			}
		}
	})
}
