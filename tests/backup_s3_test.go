package tests

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestBackupToS3 runs spaceone_backup.py with its backups in S3, as on an eks stack, against
// moto's S3 and mongomock in one Python process (components/backup/spaceone_backup_s3_test.py):
// the objects a backup becomes, keep, an interrupted upload, a restore in a new pod with its
// ledger in the bucket, a resumed restore and a damaged object. The bucket itself, IRSA and
// the EKS webhook cannot run here: the program's mock tests check what it asks AWS for.
func TestBackupToS3(t *testing.T) {
	if !enabled {
		t.Skip("integration test: run with `make test` (it installs the S3 stand-in)")
	}
	python := filepath.Join(toolPath("SPACEONE_CACHE"), "runtimes/python/s3-standin/bin/python")
	cmd := exec.Command(python, "-m", "unittest", "-v", "spaceone_backup_s3_test")
	cmd.Dir = filepath.Join(root, "components/backup")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the S3 backup checks failed: %v", err)
	}
	// unittest's summary: how many ran, then OK only if every one passed
	ran := 0
	if m := regexp.MustCompile(`(?m)^Ran (\d+) tests? in .*\n\s*\nOK`).FindSubmatch(out); m != nil {
		ran, _ = strconv.Atoi(string(m[1]))
	}
	if ran < 7 {
		t.Errorf("the S3 backup checks did not all run and pass (%d of 7 seen): %s", ran, tail(string(out), 5))
	}
}
