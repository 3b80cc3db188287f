package program

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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
	for _, want := range []string{"spaceone:release", "runs SpaceONE 1.10.4", "cloudforet-io/db-migration", "cost-analysis and budget data",
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
	// confirmed: goes ahead.
	cfg := config112()
	cfg["confirmReleaseChange"] = "1.10.4->" + release112
	if m, err := deployed(t, was, false, cfg); err != nil || m.Find(deployment, "dashboard") == nil {
		t.Errorf("a confirmed change failed (%v) or deployed no dashboard", err)
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
