// An external test: the table names the stores' images, and stores reads the catalogue.
package catalog_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

var update = flag.Bool("update", false, "rewrite the README's generated catalogue tables (make readme)")

const readmePath = "../../README.md"

// The README's tables are generated from the catalogues, each between its markers; keep
// them equal (make readme rewrites them).
func TestReadmeTableMatchesCatalogue(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, v := range catalog.Versions() {
		rel, err := catalog.Load(v)
		if err != nil {
			t.Fatal(err)
		}
		begin := "<!-- catalogue table " + v + ": generated from components/catalog/releases/" + v + ".yaml by `make readme`; a test compares -->\n"
		end := "<!-- end of catalogue table " + v + " -->"
		i, j := strings.Index(readme, begin), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Errorf("README.md has no %s catalogue table between %q and %q", v, begin, end)
			continue
		}
		want := rel.MarkdownTable(stores.Images())
		if got := readme[i+len(begin) : j]; got == want {
			continue
		} else if !*update {
			t.Errorf("README.md's %s catalogue table is stale; run make readme. Want:\n%s\ngot:\n%s", v, want, got)
			continue
		}
		readme = readme[:i+len(begin)] + want + readme[j:]
	}
	if *update && readme != string(b) {
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
