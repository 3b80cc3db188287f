package settings

import (
	"regexp"
	"strings"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Backup is spaceone:backup: backups of the in-cluster stores' data, to a volume of their own
// (local clusters) or to an S3 bucket (eks). Every such stack can take a backup with
// `make backup`; Schedule adds backups on a timetable.
type Backup struct {
	Schedule string `json:"schedule"` // cron, five fields, UTC ("" = only when asked: make backup)
	Keep     int    `json:"keep"`     // how many scheduled or asked-for backups are kept
	// Size is the backup volume's size (local clusters; "" = DefaultBackupSize).
	Size string `json:"size"`
	// S3 keeps the backups in a bucket (eks; the default there).
	S3 *BackupS3 `json:"s3"`
}

// BackupS3 is where an eks stack keeps its backups: a bucket the stack makes (encrypted,
// versioned, private, kept on destroy) or one that exists, reached by the backup Jobs through
// a role of their own (IRSA): no static keys.
type BackupS3 struct {
	// Bucket is an existing bucket to use ("" = the stack makes one); name the bucket an
	// earlier stack kept to restore its backups into a new one.
	Bucket string `json:"bucket"`
	// VersionDays is how long a deleted or replaced backup's old version stays in a bucket the
	// stack makes ("" = DefaultBackupVersionDays).
	VersionDays int `json:"versionDays"`
}

// Backup defaults (Pulumi.yaml's config block says the same; a test compares).
const (
	DefaultBackupKeep        = 7
	DefaultBackupSize        = "10Gi"
	DefaultBackupVersionDays = 30
)

// withDefaults fills what the stack left out: the volume's size on a local cluster, the
// stack's own bucket on eks.
func (b Backup) withDefaults(clusterType string) Backup {
	switch {
	case clusterType == "eks" && b.S3 == nil:
		b.S3 = &BackupS3{}
	case clusterType != "eks" && b.Size == "":
		b.Size = DefaultBackupSize
	}
	if b.S3 != nil && b.S3.VersionDays == 0 {
		s3 := *b.S3
		s3.VersionDays = DefaultBackupVersionDays
		b.S3 = &s3
	}
	return b
}

// backupName is a backup's name: spaceone-<release>-<UTC time>, as spaceone_backup.py makes it.
var backupName = regexp.MustCompile(`^spaceone-(\d+\.\d+\.\d+)-\d{8}-\d{6}$`)

// bucketName is S3's rule for a general purpose bucket's name (no dots, which break
// virtual-hosted TLS).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// BackupRelease is the release a backup of this name was taken from ("" = not a backup name).
func BackupRelease(name string) string {
	if m := backupName.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

// Backups reports whether the stack gets backups (a volume or a bucket, and the CronJob): its
// MongoDB runs in the cluster (an external one is backed up by whoever runs it).
func (s *Settings) Backups() bool {
	return s.Stores.MongoDB.External == nil
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
	if b.Size != "" {
		if q, err := resource.ParseQuantity(b.Size); err != nil || q.Sign() <= 0 {
			l.fail("backup.size", "%q is not a volume size; write it like 10Gi", b.Size)
		}
	}
	switch eks := s.Cluster.Type == "eks"; {
	case b.Size != "" && b.S3 != nil:
		l.fail("backup", "size (a backup volume) and s3 (a bucket) are both set; backups go to one place: "+
			"keep size on a local cluster, s3 on an eks stack")
	case b.S3 != nil && !eks:
		l.fail("backup.s3", "S3 backups need an eks stack: it makes the bucket and the role its backup Jobs assume (IRSA), "+
			"so no static keys are stored; on a local cluster remove backup.s3 (backups go to a volume of their own, backup.size)")
	case b.Size != "" && eks:
		l.fail("backup.size", "an eks stack keeps its backups in S3, not on a volume (an EBS volume is lost with its zone); "+
			"remove backup.size (backup.s3.bucket names an existing bucket, if you have one)")
	}
	if b.S3 != nil {
		if b.S3.Bucket != "" && (!bucketName.MatchString(b.S3.Bucket) || strings.HasPrefix(b.S3.Bucket, "xn--") ||
			strings.HasSuffix(b.S3.Bucket, "-s3alias")) {
			l.fail("backup.s3.bucket", "%q is not an S3 bucket name; 3 to 63 lowercase letters, digits and hyphens, "+
				"starting and ending with a letter or digit (or leave it empty: the stack makes the bucket)", b.S3.Bucket)
		}
		if b.S3.VersionDays < 0 || b.S3.VersionDays > 3650 {
			l.fail("backup.s3.versionDays", "%d is out of range; keep old versions 1 to 3650 days (0 = %d)", b.S3.VersionDays, DefaultBackupVersionDays)
		}
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
			"(make backup prints the name; the backup volume or bucket lists them)", s.Restore)
	case rel != s.Release:
		l.fail("restore", "%s is a backup of SpaceONE %s and this stack runs %s; a backup is restored into the release it was "+
			"taken from: restore it into a %s stack", s.Restore, rel, s.Release, rel)
	case !s.Backups():
		l.fail("restore", "this stack takes no backups (MongoDB is external): restore MongoDB with its own tools; remove spaceone:restore")
	}
}
