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
}
