// An external test: the table names the stores' images, and stores reads the catalogue.
package catalog_test

import (
	"os"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// The README's tables are generated from the catalogues; keep them equal.
func TestReadmeTableMatchesCatalogue(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range catalog.Versions() {
		rel, err := catalog.Load(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := rel.MarkdownTable(stores.Images()); !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks the current %s catalogue table; paste this under \"What gets deployed\" (1.10.4) or \"Releases\":\n%s", v, want)
		}
	}
}
