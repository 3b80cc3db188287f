package catalog

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The gRPC port and the stores' ports are written here and nowhere else: no program source
// outside this package and no script of the project holds one as a number.
func TestPortsAreWrittenOnlyInTheCatalogue(t *testing.T) {
	ports := []string{strconv.Itoa(GRPCPort)}
	for _, p := range StorePorts {
		ports = append(ports, strconv.Itoa(p))
	}
	literal := regexp.MustCompile(`\b(` + strings.Join(ports, "|") + `)\b`)
	var files []string
	for _, dir := range []string{"../../components", "../../cmd", "../../scripts"} {
		must(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path == "../../components/catalog":
				return filepath.SkipDir
			case strings.HasSuffix(path, "_test.go"): // tests state what they expect
			case strings.HasSuffix(path, ".go"), strings.HasSuffix(path, ".sh"), strings.HasSuffix(path, ".py"):
				files = append(files, path)
			}
			return nil
		}))
	}
	for _, f := range append(files, "../../Makefile") {
		b, err := os.ReadFile(f)
		must(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			if literal.MatchString(line) {
				t.Errorf("%s:%d writes a port the catalogue defines: %s", strings.TrimPrefix(f, "../../"), i+1, strings.TrimSpace(line))
			}
		}
	}
	if len(files) < 50 {
		t.Errorf("only %d files read: the walk missed the sources", len(files))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
