package program

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// deployed runs the program on a stack whose last update left these outputs.
func deployed(t *testing.T, outputs map[string]any, dryRun bool, cfg testkit.Config) (*testkit.Mocks, error) {
	t.Helper()
	m := &testkit.Mocks{Deployed: outputs, DryRun: dryRun}
	return m, testkit.RunWith(m, Run, cfg)
}

func TestReleaseChangeOnAStackWithDataIsRefusedUntilConfirmed(t *testing.T) {
	was := map[string]any{"release": "1.10.4", "namespace": "spaceone"}
	// up: refused, naming the migration and the confirmation, before anything is touched.
	m, err := deployed(t, was, false, config112())
	if err == nil {
		t.Fatal("up switched a 1.10.4 stack with data to 1.12.12 without confirmation")
	}
	for _, want := range []string{"spaceone:release", "runs SpaceONE 1.10.4", "up moves the data itself", "a backup of everything",
		"cost-analysis's costs, budgets", "Consul with its volume claim",
		"pulumi config set confirmReleaseChange '1.10.4->" + release112 + "'", "Nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	if n := len(m.Touched()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}
	// preview: shows the change (the whole platform is planned) and does not fail.
	if m, err := deployed(t, was, true, config112()); err != nil || m.Find(deployment, "identity") == nil {
		t.Errorf("preview of the change failed (%v) or planned no identity", err)
	}
	// confirmed: goes ahead, and moves the data first: the upgrade Job after the stores and
	// the users, every workload of the new release after it.
	cfg := config112()
	cfg["confirmReleaseChange"] = "1.10.4->" + release112
	m, err = deployed(t, was, false, cfg)
	if err != nil || m.Find(deployment, "dashboard") == nil {
		t.Fatalf("a confirmed change failed (%v) or deployed no dashboard", err)
	}
	up := m.Find(job, backup.Upgrade)
	if up == nil {
		t.Fatal("a confirmed change runs no upgrade Job")
	}
	if w := up.Object("metadata.annotations")[kube.WaitsForAnnotation].StringValue(); w != "mongodb,db-users" {
		t.Errorf("the upgrade waits for %q, want mongodb,db-users", w)
	}
	if args := up.Array("spec.template.spec.containers")[0].ObjectValue()["command"].ArrayValue(); len(args) != 4 || args[2].StringValue() != "1.10.4" || args[3].StringValue() != release112 {
		t.Errorf("the upgrade runs %v", args)
	}
	for _, d := range append(m.OfType(deployment), *m.Find(job, "initializer")) {
		if !strings.Contains(strings.Join(d.Deps, " "), "::"+backup.Upgrade) {
			t.Errorf("%s does not wait for the upgrade (depends on %v)", d.KubeName(), d.Deps)
		}
		// The wait is this up's alone: recorded, the next up would change every workload back.
		if w := d.Object("metadata.annotations")[kube.WaitsForAnnotation]; w.IsString() && strings.Contains(w.StringValue(), backup.Upgrade) {
			t.Errorf("%s records the wait for the upgrade (%s)", d.KubeName(), w)
		}
	}
	// a confirmation of another change does not count.
	cfg["confirmReleaseChange"] = release112 + "->1.10.4"
	if _, err := deployed(t, was, false, cfg); err == nil {
		t.Error("the confirmation of another change allowed this one")
	}
}

func TestReleaseChangeGuardLetsFreshStacksAndSameReleasesThrough(t *testing.T) {
	for name, c := range map[string]struct {
		outputs map[string]any
		cfg     testkit.Config
	}{
		"fresh stack, 1.12":              {nil, config112()},
		"fresh stack, 1.10.4":            {nil, simConfig()},
		"same release":                   {map[string]any{"release": release112, "namespace": "spaceone"}, config112()},
		"1.10.4 stack before the output": {map[string]any{"namespace": "spaceone"}, simConfig()},
	} {
		if _, err := deployed(t, c.outputs, false, c.cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A stack deployed before the release was an output ran 1.10.4: guarded as such.
	if _, err := deployed(t, map[string]any{"namespace": "spaceone"}, false, config112()); err == nil || !strings.Contains(err.Error(), "runs SpaceONE 1.10.4") {
		t.Errorf("an older 1.10.4 stack switched to 1.12 unguarded: %v", err)
	}
}

func TestTheReleaseIsAnOutput(t *testing.T) {
	m := &testkit.Mocks{}
	if err := testkit.RunWith(m, func(ctx *pulumi.Context) error {
		outs, err := Build(ctx)
		if err != nil {
			return err
		}
		if _, ok := outs["release"]; !ok {
			t.Error("no release output: the guard would see every stack as fresh")
		}
		return nil
	}, config112()); err != nil {
		t.Fatal(err)
	}
}

// The default release is 1.12.12 for new stacks; a stack that runs 1.10.4 and names no
// release is not moved by the new default: up refuses, saying to pin 1.10.4 or to confirm.
func TestANewDefaultDoesNotMoveA1104Stack(t *testing.T) {
	cfg := simConfig()
	delete(cfg, "release")
	if m, err := deployed(t, nil, false, cfg); err != nil || m.Find(deployment, "dashboard") == nil {
		t.Fatalf("a new stack without spaceone:release did not get 1.12.12 (%v)", err)
	}
	cfg["stores"] = map[string]any{"storageClass": "sim-local"}
	_, err := deployed(t, map[string]any{"release": "1.10.4", "namespace": "spaceone"}, false, cfg)
	if err == nil {
		t.Fatal("the new default moved a 1.10.4 stack")
	}
	for _, want := range []string{"pulumi config set release 1.10.4", "pulumi config set confirmReleaseChange '1.10.4->1.12.12'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
}

// A stack moved to 1.12.12 does not go back to 1.10.4 with its data, confirmed or not: the way
// back is the backup the upgrade took.
func TestADowngradeIsRefused(t *testing.T) {
	cfg := simConfig()
	cfg["confirmReleaseChange"] = "1.12.12->1.10.4"
	m, err := deployed(t, map[string]any{"release": "1.12.12", "namespace": "spaceone"}, false, cfg)
	if err == nil || !strings.Contains(err.Error(), "there is no move back") || !strings.Contains(err.Error(), "restore into a 1.10.4 stack") {
		t.Fatalf("a confirmed downgrade: %v", err)
	}
	if n := len(m.Touched()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}
}

// After the move, the up with the confirmation still set keeps the finished upgrade Job (the
// stack changes nothing); without it, the Job goes; a fresh stack never gets one.
func TestAFinishedUpgradeJobStaysWhileTheConfirmationNamesIt(t *testing.T) {
	moved := map[string]any{"release": release112, "namespace": "spaceone"}
	cfg := config112()
	cfg["confirmReleaseChange"] = "1.10.4->" + release112
	for name, c := range map[string]struct {
		outputs map[string]any
		cfg     testkit.Config
		want    bool
	}{
		"after the move, confirmation set":  {moved, cfg, true},
		"after the move, confirmation gone": {moved, config112(), false},
		"a fresh stack, confirmation set":   {nil, cfg, false},
	} {
		m, err := deployed(t, c.outputs, false, c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := m.Find(job, backup.Upgrade) != nil; got != c.want {
			t.Errorf("%s: upgrade Job declared %v, want %v", name, got, c.want)
		}
	}
}
