package catalog

import (
	"strings"
	"testing"
)

func TestCatalogueLoads(t *testing.T) {
	rel, err := Load("1.10.4")
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.ServiceNames()) < 12 {
		t.Errorf("only %d services", len(rel.ServiceNames()))
	}
	if _, err := Load("9.9.9"); err == nil || !strings.Contains(err.Error(), "known: 1.10.4") {
		t.Errorf("unknown release error = %v", err)
	}
}

func TestConnectorName(t *testing.T) {
	for in, want := range map[string]string{"identity": "IdentityConnector", "cost-analysis": "CostAnalysisConnector", "file-manager": "FileManagerConnector"} {
		if got := ConnectorName(in); got != want {
			t.Errorf("ConnectorName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestMergeIsDeepForMapsAndReplacesLists(t *testing.T) {
	got := Merge(map[string]any{"a": map[string]any{"x": 1, "y": 2}, "l": []any{1, 2}},
		map[string]any{"a": map[string]any{"y": 3}, "l": []any{9}})
	a := got["a"].(map[string]any)
	if a["x"] != 1 || a["y"] != 3 || len(got["l"].([]any)) != 1 {
		t.Errorf("merge = %v", got)
	}
}

// A start rule must name workloads the release can have, and say why.
func TestStartRulesAreChecked(t *testing.T) {
	for name, w := range map[string]Wait{
		"unknown workload":      {Workloads: []string{"inventroy"}, WaitFor: []string{"identity"}, Why: "x"},
		"pattern matching none": {Workloads: []string{"*-wroker"}, WaitFor: []string{"identity"}, Why: "x"},
		"unknown waitFor":       {Workloads: []string{"inventory"}, WaitFor: []string{"identiy"}, Why: "x"},
		"no why":                {Workloads: []string{"inventory"}, WaitFor: []string{"identity"}},
		"waits for a group":     {Workloads: []string{"inventory"}, WaitFor: []string{TokenConsumers}, Why: "x"},
	} {
		rel, err := Load("1.10.4")
		if err != nil {
			t.Fatal(err)
		}
		rel.Start = append(rel.Start, w)
		if err := rel.checkStart(); err == nil {
			t.Errorf("%s: accepted %+v", name, w)
		}
	}
}

// Start rules that wait in a circle are refused when the catalogue loads, with the circle
// named; the releases' own rules have none.
func TestStartRulesInACircleAreRefused(t *testing.T) {
	for _, v := range Versions() {
		rel, err := Load(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		// identity waits for mongodb in both releases; mongodb waiting for a token consumer
		// (inventory-scheduler, through the initializer) closes a longer circle.
		rel.Start = append(rel.Start, Wait{Workloads: []string{"mongodb"}, WaitFor: []string{"inventory-scheduler"}, Why: "x"})
		err = rel.checkStart()
		if err == nil || !strings.Contains(err.Error(), "wait in a circle: ") || !strings.Contains(err.Error(), "mongodb waits for inventory-scheduler") {
			t.Errorf("%s: a circle through mongodb: %v", v, err)
		} else {
			t.Logf("%s: %v", v, err)
		}
	}
}

// Components wait in no circle either: a service's variants are deployed by one component,
// so the initializer waiting for the gRPC server of a service one of whose other variants
// waits for the initializer's key is refused, though no workload waits for itself.
func TestComponentsInACircleAreRefused(t *testing.T) {
	for _, v := range Versions() {
		rel, err := Load(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		service := "" // the first whose gRPC server starts before the key and another variant after
		for _, name := range rel.ServiceNames() {
			s := rel.Services[name]
			for variant, spec := range s.Variants {
				if service == "" && !rel.TokenReady.ReadsAtStart("grpc", s.Variants["grpc"]) && rel.TokenReady.ReadsAtStart(variant, spec) {
					service = name
				}
			}
		}
		if service == "" {
			t.Fatalf("%s: no service has a token consumer beside a gRPC server that is none", v)
		}
		rel.Start = append(rel.Start, Wait{Workloads: []string{"initializer"}, WaitFor: []string{service}, Why: "x"})
		err = rel.checkStart()
		if want := "initializer waits for " + service + " waits for initializer"; err == nil ||
			!strings.Contains(err.Error(), "components wait in a circle") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q, got %v", v, want, err)
		} else {
			t.Logf("%s: %v", v, err)
		}
	}
}

// Which component deploys a workload, as the start order runs them.
func TestComponentOfAWorkload(t *testing.T) {
	rel, err := Load("1.12.12")
	if err != nil {
		t.Fatal(err)
	}
	for workload, want := range map[string]string{
		"inventory-worker": "inventory", "cost-analysis": "cost-analysis", "cost-analysis-worker": "cost-analysis",
		"mongodb": StoresComponent, "console-api": FrontendComponent, "initializer": "initializer", DBUsers: DBUsers,
	} {
		if got := rel.Component(workload); got != want {
			t.Errorf("Component(%q) = %q, want %q", workload, got, want)
		}
	}
}

// A misspelt key in a release file is an error, not a setting silently dropped.
func TestCatalogueIsDecodedStrictly(t *testing.T) {
	b, err := releases.ReadFile("releases/1.10.4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(b); err != nil {
		t.Fatalf("the release file itself: %v", err)
	}
	bad := strings.Replace(string(b), "    usesConsul: true", "    usesConsull: true", 1)
	if _, err := parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "usesConsull") {
		t.Errorf("a misspelt key was accepted: %v", err)
	}
}

// Every service names the call that proves it works with a token (the real tests make it for
// each service the catalogue enables): a service without one is refused.
func TestEveryServiceNamesAnAuthenticatedCall(t *testing.T) {
	b, err := releases.ReadFile("releases/1.12.12.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "    authenticatedCall: board.Board\n", "", 1)
	if bad == string(b) {
		t.Fatal("board's authenticatedCall is not in the release file")
	}
	if _, err := parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "service board needs an authenticatedCall") {
		t.Errorf("a service without an authenticated call was accepted: %v", err)
	}
}
