package program

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// A service enabled later gets its database user from the db-users Job, which sees the new
// user list (and so is a new Job, run by that up); MongoDB itself does not change, so it does
// not restart.
func TestServiceEnabledLaterChangesTheUsersJobNotMongoDB(t *testing.T) {
	before := run(t, simConfig())
	cfg := simConfig()
	cfg["services"] = map[string]any{"cost-analysis": map[string]any{"enabled": true}}
	after := run(t, cfg)

	list := func(env map[string]string) []string {
		var us []struct {
			User string   `json:"user"`
			DBs  []string `json:"dbs"`
		}
		if err := json.Unmarshal([]byte(env["SPACEONE_DB_USERS"]), &us); err != nil {
			t.Fatalf("SPACEONE_DB_USERS: %v", err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.User+":"+strings.Join(u.DBs, ","))
		}
		return out
	}
	b := list(containerEnv(t, before.Find("kubernetes:batch/v1:Job", catalog.DBUsers)))
	a := list(containerEnv(t, after.Find("kubernetes:batch/v1:Job", catalog.DBUsers)))
	if strings.Contains(strings.Join(b, " "), "cost_analysis_user") || !strings.Contains(strings.Join(a, " "), "cost_analysis_user:cost-analysis") {
		t.Errorf("db-users sets %v by default and %v with cost-analysis on; want cost_analysis_user (on its database) only in the second", b, a)
	}
	sb, sa := before.Find(stateful, "mongodb"), after.Find(stateful, "mongodb")
	if sb == nil || sa == nil {
		t.Fatal("no mongodb StatefulSet")
	}
	tb, _ := json.Marshal(sb.Object("spec.template"))
	ta, _ := json.Marshal(sa.Object("spec.template"))
	if len(tb) < 200 || !strings.Contains(string(tb), "mongo:") {
		t.Fatalf("MongoDB's pod template was not read: %s", tb)
	}
	if string(tb) != string(ta) {
		t.Errorf("enabling a service changes MongoDB's pod template (it would restart):\n%s\n%s", tb, ta)
	}
	if strings.Contains(string(tb), "SPACEONE_DB") {
		t.Errorf("MongoDB's pod template holds the service users; the db-users Job sets them")
	}
}
