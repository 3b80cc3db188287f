package program

import (
	"cmp"
	"os"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// TestMain: unit tests reach no cluster. A local stack reads its storage class and the
// volumes an earlier destroy kept (the backup volume's, stores.keepVolumes'); unless a test
// sets its own, it finds a class that deletes released volumes, as minikube's does, and none
// kept; and the API key of a deployed platform is where its release keeps it.
func TestMain(m *testing.M) {
	connectVolumes = func(string, string) (volumes.Cluster, error) { return anyClass{}, nil }
	lostKey = func(*settings.Settings, *catalog.Release, string) (string, error) { return "", nil }
	os.Exit(m.Run())
}

// anyClass is an API server whose every storage class (and default, "standard") deletes
// released volumes, with no volume kept.
type anyClass struct{}

func (anyClass) StorageClass(name string) (*volumes.Class, error) {
	return &volumes.Class{Name: cmp.Or(name, "standard"), Provisioner: "k8s.io/minikube-hostpath", ReclaimPolicy: "Delete", VolumeBindingMode: "Immediate"}, nil
}
func (anyClass) Kept(string, []volumes.Claim) ([]volumes.Kept, error) { return nil, nil }
func (anyClass) Reserve(volumes.Kept) error                           { return nil }
