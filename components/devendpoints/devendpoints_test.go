package devendpoints

import (
	"strings"
	"testing"
)

// What the program writes is what dev-connect reads back, and its table says for every entry
// where the laptop reaches it and what that leads to; only what has a Service is forwarded.
func TestTheTableAndForwardsComeFromTheOutput(t *testing.T) {
	written := map[string]Endpoint{
		"identity":  {Address: "localhost:50151", Runs: InCluster, Service: "identity", ServicePort: 50051},
		"inventory": {Address: "localhost:50061", Runs: OnLaptop},
		"mongodb":   {Address: "db.example.org:27017", Runs: External},
		"redis":     {Address: "192.168.49.2:30379", Runs: InCluster},
	}
	m, err := Map(written)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["inventory"].(map[string]any)["service"]; ok {
		t.Error("an endpoint with nothing to forward has a service in the output")
	}
	// The CLI prints the output as JSON; the same bytes here.
	read, err := Parse([]byte(`{"identity": {"address": "localhost:50151", "runs": "cluster", "service": "identity", "servicePort": 50051},
		"inventory": {"address": "localhost:50061", "runs": "laptop"}, "mongodb": {"address": "db.example.org:27017", "runs": "external"},
		"redis": {"address": "192.168.49.2:30379", "runs": "cluster"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range written {
		if read[name] != e {
			t.Errorf("%s read back as %+v, written as %+v", name, read[name], e)
		}
	}
	fw, err := Forwards(read)
	if err != nil {
		t.Fatal(err)
	}
	if len(fw) != 1 || fw["identity"] != (Forward{Service: "identity", LocalPort: 50151, ServicePort: 50051}) {
		t.Errorf("forwards %+v; want identity's alone", fw)
	}
	table, err := Table(read, "spaceone")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SERVICE        ON YOUR LAPTOP               IN THE CLUSTER",
		"identity       localhost:50151              svc/identity:50051 -n spaceone",
		"inventory      localhost:50061              (runs-on-your-laptop)",
		"mongodb        db.example.org:27017         (outside-the-cluster)",
		"redis          192.168.49.2:30379           (on-the-nodes)",
	}
	if got := strings.Split(strings.TrimSuffix(table, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant:\n%s", table, strings.Join(want, "\n"))
	}
	if _, err := Forwards(map[string]Endpoint{"x": {Address: "localhost", Service: "x"}}); err == nil || !strings.Contains(err.Error(), "devEndpoints.x") {
		t.Errorf("an address without a port: %v", err)
	}
}
