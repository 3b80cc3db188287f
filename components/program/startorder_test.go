package program

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/platform"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

var update = flag.Bool("update", false, "rewrite the README's generated start order (make readme)")

const (
	readmePath       = "../../README.md"
	startOrderBegin  = "<!-- start order: generated from the release's start rules by `make readme`; a test compares -->\n"
	startOrderFinish = "<!-- end of start order -->\n"
)

// minikubeConfig is the default stack, stacks/Pulumi.minikube.yaml.
func minikubeConfig() testkit.Config {
	return testkit.Config{"clusterType": "local", "kubeContext": "minikube"}
}

// startOrderOf resolves the start order of a stack as the program does.
func startOrderOf(t *testing.T, cfg testkit.Config) *platform.StartOrder {
	t.Helper()
	var order *platform.StartOrder
	err := testkit.RunWith(&testkit.Mocks{}, func(ctx *pulumi.Context) error {
		s, plan, err := load(ctx)
		if err != nil {
			return err
		}
		order, err = platform.NewStartOrder(s, plan)
		return err
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return order
}

// The README's drawing is the default stack's start order, as generated now.
func TestREADMEStartOrderIsTheCode(t *testing.T) {
	testkit.GeneratedSection(t, readmePath, startOrderBegin, startOrderFinish, startOrderOf(t, minikubeConfig()).Markdown(), *update)
}

// What each workload's resource waits for, as registered, is exactly what the start order
// says: a workload waits for nothing else, and for everything it names.
func TestWorkloadsWaitAsTheStartOrderSays(t *testing.T) {
	for name, cfg := range map[string]testkit.Config{
		"minikube":            minikubeConfig(),
		"console off":         withKeys(minikubeConfig(), "console", map[string]any{"enabled": false}),
		"identity on laptop":  withKeys(minikubeConfig(), "localServices", map[string]any{"identity": "host.minikube.internal:50051"}),
		"schedulers enabled":  withKeys(minikubeConfig(), "services", map[string]any{"plugin": map[string]any{"variants": []string{"grpc", "scheduler", "worker"}}}),
		"supervisor disabled": withKeys(minikubeConfig(), "supervisor", map[string]any{"enabled": false}),
	} {
		t.Run(name, func(t *testing.T) {
			order := startOrderOf(t, cfg)
			m := run(t, cfg)
			workloads := map[string]testkit.Resource{}
			for _, typ := range []string{deployment, "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job"} {
				for _, r := range m.OfType(typ) {
					workloads[r.Name] = r
				}
			}
			for _, wl := range order.Workloads {
				if _, ok := workloads[wl]; !ok {
					t.Errorf("start order names %s, which the program does not deploy", wl)
				}
			}
			for wl, r := range workloads {
				if !slices.Contains(order.Workloads, wl) {
					t.Errorf("%s is deployed but missing from the start order", wl)
					continue
				}
				var got []string
				for _, dep := range r.Deps {
					name := dep[strings.LastIndex(dep, "::")+2:]
					if _, isWorkload := workloads[name]; isWorkload && name != wl && !slices.Contains(got, name) {
						got = append(got, name)
					}
				}
				want := order.WaitFor(wl)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s waits for %v; the start order says %v", wl, got, want)
				}
				var annotated []string
				if v, ok := r.Object("metadata.annotations")[kube.WaitsForAnnotation]; ok {
					annotated = strings.Split(v.StringValue(), ",")
				}
				slices.Sort(annotated)
				if !slices.Equal(annotated, want) {
					t.Errorf("%s is annotated %s=%v; the start order says %v", wl, kube.WaitsForAnnotation, annotated, want)
				}
			}
		})
	}
}

func withKeys(cfg testkit.Config, key string, v any) testkit.Config {
	cfg[key] = v
	return cfg
}

// A 1.10.4 minikube stack's rules: the initializer waits for what it calls, the token
// consumers for the key, the queue processes for Redis, the database users' Job for MongoDB,
// and nothing else waits.
func TestOnlyWhatMustWaitWaits(t *testing.T) {
	order := startOrderOf(t, withKeys(minikubeConfig(), "release", "1.10.4"))
	waiting := map[string][]string{}
	for _, wl := range order.Workloads {
		if w := order.WaitFor(wl); len(w) > 0 {
			waiting[wl] = w
		}
	}
	if got := waiting["initializer"]; !slices.Contains(got, "identity") || !slices.Contains(got, "mongodb") || !slices.Contains(got, "consul") {
		t.Errorf("initializer waits for %v, want identity, mongodb and consul among them", got)
	}
	for wl, want := range map[string][]string{
		"inventory-scheduler": {"redis", "initializer"}, "supervisor": {"initializer"},
		"inventory-worker": {"redis"}, "notification-scheduler": {"redis"}, "notification-worker": {"redis"},
		catalog.DBUsers: {"mongodb"},
	} {
		if got := waiting[wl]; !slices.Equal(got, want) {
			t.Errorf("%s waits for %v, want %v", wl, got, want)
		}
		delete(waiting, wl)
	}
	delete(waiting, "initializer")
	if len(waiting) > 0 {
		t.Errorf("these wait although nothing makes them: %v", waiting)
	}
}
