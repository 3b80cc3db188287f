package settings

import (
	"regexp"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Backup is spaceone:backup: backups of the in-cluster stores' data to a volume of their own
// (local clusters). Every such stack has the volume and can take a backup with `make backup`;
// Schedule adds backups on a timetable.
type Backup struct {
	Schedule string `json:"schedule"` // cron, five fields, UTC ("" = only when asked: make backup)
	Keep     int    `json:"keep"`     // how many scheduled or asked-for backups the volume keeps
	Size     string `json:"size"`     // the backup volume's size
}

// Backup defaults (Pulumi.yaml's config block says the same; a test compares).
const (
	DefaultBackupKeep = 7
	DefaultBackupSize = "10Gi"
)

// backupName is a backup's name: spaceone-<release>-<UTC time>, as spaceone_backup.py makes it.
var backupName = regexp.MustCompile(`^spaceone-(\d+\.\d+\.\d+)-\d{8}-\d{6}$`)

// BackupRelease is the release a backup of this name was taken from ("" = not a backup name).
func BackupRelease(name string) string {
	if m := backupName.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

// Backups reports whether the stack gets the backup volume and CronJob: its MongoDB runs in
// the cluster (an external one is backed up by whoever runs it), on a local cluster.
func (s *Settings) Backups() bool {
	return s.Cluster.Type == "local" && s.Stores.MongoDB.External == nil
}

func (l *loader) checkBackup(s *Settings, set bool) {
	b := &s.Backup
	if b.Schedule != "" {
		if _, err := cron.ParseStandard(b.Schedule); err != nil {
			l.fail("backup.schedule", "%q is not a cron schedule (%v); write five fields, minute hour day month weekday "+
				"(e.g. \"0 3 * * *\": 03:00 UTC every day), or leave it empty to take backups only with make backup", b.Schedule, err)
		}
	}
	if b.Keep < 1 || b.Keep > 1000 {
		l.fail("backup.keep", "%d is out of range; keep 1 to 1000 backups (the oldest beyond it are deleted)", b.Keep)
	}
	if q, err := resource.ParseQuantity(b.Size); err != nil || q.Sign() <= 0 {
		l.fail("backup.size", "%q is not a volume size; write it like 10Gi", b.Size)
	}
	if set && s.Cluster.Type == "eks" {
		l.fail("backup", "backups to S3 on EKS are not built yet; remove spaceone:backup from an eks stack "+
			"(its stores' volumes are EBS volumes; snapshot them with AWS Backup meanwhile)")
	}
	if set && s.Stores.MongoDB.External != nil {
		l.fail("backup", "MongoDB is external (stores.mongodb.external): back it up with its own tools; remove spaceone:backup")
	}
	if s.Restore == "" {
		return
	}
	switch rel := BackupRelease(s.Restore); {
	case rel == "":
		l.fail("restore", "%q is not a backup name; backups are named spaceone-<release>-<YYYYMMDD-HHMMSS> "+
			"(make backup prints the name; the backup volume lists them)", s.Restore)
	case rel != s.Release:
		l.fail("restore", "%s is a backup of SpaceONE %s and this stack runs %s; a backup is restored into the release it was "+
			"taken from: restore it into a %s stack", s.Restore, rel, s.Release, rel)
	case !s.Backups():
		l.fail("restore", "this stack has no backup volume (an eks stack, or an external MongoDB); remove spaceone:restore")
	}
}
