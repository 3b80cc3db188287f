package microservice

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// TestTokenProbeSurvivesLogRotation runs each release's token readiness probe, as the
// container would, against a log directory that goes through what python-core's
// RotatingFileHandler does to it: the line "holds the key" is written once, at start, then
// rotated into name.log.1 and, 10 rotations later, dropped. A pod that held the key must
// stay Ready; a pod whose process never logged it must not become Ready.
func TestTokenProbeSurvivesLogRotation(t *testing.T) {
	for _, version := range catalog.Versions() {
		rel, err := catalog.Load(version)
		if err != nil {
			t.Fatal(err)
		}
		cmd := rel.TokenReady.Command
		if len(cmd) == 0 {
			continue // the release does not gate readiness on the key (1.12: a Secret file)
		}
		t.Run(version, func(t *testing.T) {
			if !strings.Contains(strings.Join(cmd, " "), kube.LogDir+"/") {
				t.Fatalf("the probe %q does not read the log directory %s, where the processes write", cmd, kube.LogDir)
			}
			dir := t.TempDir()
			probe := func() bool {
				// The probe's paths, moved to a directory of the test's own.
				args := make([]string, len(cmd))
				for i, a := range cmd {
					args[i] = strings.ReplaceAll(a, kube.LogDir, dir)
				}
				return exec.Command(args[0], args[1:]...).Run() == nil
			}
			write := func(name, text string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			held := `{"level": "WARNING", "message": "[_validate_token] token: eyJhbGciOiJSUzI1NiIsInR5cCI6 uri: root/api_key/TOKEN"}` + "\n"

			write("inventory.log", `{"level": "INFO", "message": "start"}`+"\n")
			if probe() {
				t.Fatal("Ready before the process logged that it holds the key")
			}
			write("inventory.log", held)
			if !probe() {
				t.Fatal("not Ready once the process logged that it holds the key")
			}
			// The first rotation: the line moves to inventory.log.1.
			if err := os.Rename(filepath.Join(dir, "inventory.log"), filepath.Join(dir, "inventory.log.1")); err != nil {
				t.Fatal(err)
			}
			write("inventory.log", "")
			if !probe() {
				t.Fatal("not Ready after the log rotated once")
			}
			// Ten rotations later the line is gone from every file.
			write("inventory.log.1", "")
			if !probe() {
				t.Fatal("not Ready once rotation dropped the line that said it holds the key")
			}
		})
	}
}
