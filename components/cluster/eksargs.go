package cluster

import (
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// EksArgs configures the EKS cluster.
type EksArgs struct {
	Settings     settings.EKS
	StorageClass string // the stores' class ("" = the gp3 class made here)
	KeepVolumes  bool   // the gp3 StorageClass retains volumes when their claims go
	// Claims are the stores' claims: with KeepVolumes, the volumes an earlier destroy kept for
	// them are given back.
	Claims []volumes.Claim
	// Backup, when set, makes (or names) the bucket the backups go to and the role the backup
	// Jobs assume.
	Backup *BackupArgs
}

// BackupArgs is where an eks stack's backups go, and who writes them.
type BackupArgs struct {
	Bucket      string // an existing bucket ("" = make one)
	VersionDays int    // how long a made bucket keeps old versions
	// Namespace and ServiceAccounts are the backup Jobs' accounts: only they may assume the role.
	Namespace       string
	ServiceAccounts []string
}
