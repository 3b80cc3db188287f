package releasechange

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	migration := "run cloudforet-io/db-migration's 1.12 script (it deletes cost-analysis and budget data)"
	for _, c := range []struct {
		name   string
		change Change
		refuse bool
	}{
		{"fresh stack, any release", Change{Wanted: "1.12.12", Migration: migration}, false},
		{"same release", Change{Deployed: "1.10.4", Wanted: "1.10.4"}, false},
		{"upgrade unconfirmed", Change{Deployed: "1.10.4", Wanted: "1.12.12", Migration: migration}, true},
		{"upgrade confirmed", Change{Deployed: "1.10.4", Wanted: "1.12.12", Confirmed: "1.10.4->1.12.12"}, false},
		{"confirmation of another change", Change{Deployed: "1.10.4", Wanted: "1.12.12", Confirmed: "1.12.12->1.10.4"}, true},
		{"downgrade unconfirmed", Change{Deployed: "1.12.12", Wanted: "1.10.4"}, true},
	} {
		err := c.change.Check()
		if (err != nil) != c.refuse {
			t.Errorf("%s: err = %v, want refused %v", c.name, err, c.refuse)
			continue
		}
		if err == nil {
			continue
		}
		for _, want := range []string{"spaceone:release", c.change.Deployed, "pulumi config set confirmReleaseChange '" + c.change.Deployed + "->" + c.change.Wanted + "'", "Nothing was changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message lacks %q:\n%v", c.name, want, err)
			}
		}
		if c.change.Migration != "" && !strings.Contains(err.Error(), "db-migration") {
			t.Errorf("%s: message does not name the migration:\n%v", c.name, err)
		}
	}
}
