// An external test: the table names the stores' images, and stores reads the catalogue.
package catalog_test

import (
	"flag"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/stores"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

var update = flag.Bool("update", false, "rewrite the README's generated catalogue tables (make readme)")

const readmePath = "../../README.md"

// The README's tables are generated from the catalogues, each between its markers; keep
// them equal (make readme rewrites them).
func TestReadmeTableMatchesCatalogue(t *testing.T) {
	for _, v := range catalog.Versions() {
		rel, err := catalog.Load(v)
		if err != nil {
			t.Fatal(err)
		}
		testkit.GeneratedSection(t, readmePath,
			"<!-- catalogue table "+v+": generated from components/catalog/releases/"+v+".yaml by `make readme`; a test compares -->\n",
			"<!-- end of catalogue table "+v+" -->", rel.MarkdownTable(stores.Images()), *update)
	}
}
