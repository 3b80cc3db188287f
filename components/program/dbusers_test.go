package program

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
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

// stores.mongodb.rotateUserPasswords gives every service user a new password in one up: the
// users' Secret, the db-users Job that sets them (a new Job, so that up runs it) and each
// service's database config (a new Secret name, so its pods restart) all change together;
// MongoDB itself does not.
func TestRotateUserPasswordsChangesTheUsersAndTheirServicesTogether(t *testing.T) {
	before := run(t, simConfig())
	cfg := simConfig()
	cfg["stores"] = map[string]any{"mongodb": map[string]any{"size": "8Gi", "rotateUserPasswords": "2026-12-07"}}
	after := run(t, cfg)

	const secret = "kubernetes:core/v1:Secret"
	users := func(m *testkit.Mocks) map[string]string {
		s := m.Find(secret, "mongodb-users")
		if s == nil {
			t.Fatal("no Secret mongodb-users")
		}
		out := map[string]string{}
		for k := range s.Object("data") {
			out[string(k)], _ = s.SecretString(string(k))
		}
		return out
	}
	ub, ua := users(before), users(after)
	if len(ub) < 5 || len(ua) != len(ub) {
		t.Fatalf("service users before %d, after %d", len(ub), len(ua))
	}
	for user, pw := range ub {
		if ua[user] == "" || ua[user] == pw {
			t.Errorf("%s keeps its password after the rotation", user)
		}
	}
	// An auto-named Job whose spec changes is replaced: a new Job, which that up runs.
	jb, _ := json.Marshal(before.Find(job, catalog.DBUsers).Inputs.Mappable())
	ja, _ := json.Marshal(after.Find(job, catalog.DBUsers).Inputs.Mappable())
	if string(jb) == string(ja) {
		t.Error("the db-users Job is the same: the up that rotates would not set the new passwords")
	}
	for _, svc := range []string{"identity", "inventory", "secret"} {
		// An immutable, auto-named Secret: new data is a new Secret, and the pods that mount it restart.
		db := func(m *testkit.Mocks) string {
			s := m.Find(secret, svc+"-database")
			if s == nil {
				t.Fatalf("no Secret %s-database", svc)
			}
			v, _ := s.SecretString("database.yaml")
			return v
		}
		user := strings.ReplaceAll(svc, "-", "_") + "_user"
		if c := db(after); !strings.Contains(c, ua[user]) || strings.Contains(c, ub[user]) || !strings.Contains(db(before), ub[user]) {
			t.Errorf("%s's database config does not follow its user's password (new in it: %v, old in it: %v)",
				svc, strings.Contains(c, ua[user]), strings.Contains(c, ub[user]))
		}
	}
	tb, _ := json.Marshal(before.Find(stateful, "mongodb").Object("spec.template"))
	ta, _ := json.Marshal(after.Find(stateful, "mongodb").Object("spec.template"))
	if string(tb) != string(ta) {
		t.Error("the rotation changes MongoDB's pod template (it would restart)")
	}
}
