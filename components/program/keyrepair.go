package program

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/client-go/kubernetes"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/platform"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// keyRepairOutput is the stack output that keeps Plan.KeyRepair from one up to the next.
const keyRepairOutput = "apiKeyRepaired"

// keyCheckTimeout bounds the look at the key: a cluster that does not answer delays up by
// no more than this, and up then goes on without a repair.
const keyCheckTimeout = 10 * time.Second

// repairLostKey looks, on a deployed platform, whether the API key is still
// where the release keeps it (1.12: the key's Secrets; 1.10.4: Consul). When it is gone (a
// Secret deleted, Consul's data lost), the plan gets a new KeyRepair: this up runs the
// initializer again, which makes and hands over a new key and disables the lost one (its
// rekey mode), and restarts the consumers; a line says what was found. Otherwise the last
// repair's mark is kept, so the next up changes nothing. A key that is there but no longer
// works in identity is not seen here: spaceone:initializer.rotateApiKey replaces it. An eks
// cluster is reached through the kubeconfig the last up output: before the run, that is the
// only way to the cluster this run builds.
func repairLostKey(ctx *pulumi.Context, s *settings.Settings, plan *platform.Plan, last lastUp) {
	plan.KeyRepair = last.keyRepair
	if last.release != plan.Release.Version || s.RenderDir != "" || s.Cluster.Type == "eks" && last.kubeconfig == "" {
		return // nothing deployed of this release, or no way to reach it yet
	}
	kubeconfig := ""
	if s.Cluster.Type == "eks" {
		kubeconfig = last.kubeconfig
	}
	missing, err := lostKey(s, plan.Release, kubeconfig)
	if err != nil {
		_ = ctx.Log.Warn(fmt.Sprintf("could not check the API key (%v): this up repairs nothing of it", err), nil)
		return
	}
	if missing == "" {
		return
	}
	plan.KeyRepair = time.Now().UTC().Format("20060102-150405")
	verb := "this up makes"
	if ctx.DryRun() {
		verb = "up will make"
	}
	_ = ctx.Log.Warn(fmt.Sprintf("%s: %s a new API key (the initializer's rekey mode), hands it over, disables the lost one "+
		"and restarts the services that read it", missing, verb), nil)
}

// lostKey is the key check repairLostKey runs; unit tests replace it.
var lostKey = checkKey

// checkKey says what is missing of the platform's API key ("" = nothing), reached through the
// given kubeconfig content or, when it is empty, the stack's kube context or kubeconfig file.
func checkKey(s *settings.Settings, rel *catalog.Release, kubeconfig string) (string, error) {
	var client kubernetes.Interface
	var err error
	if kubeconfig != "" {
		client, err = volumes.ClientFromKubeconfig([]byte(kubeconfig))
	} else {
		client, err = volumes.Client(s.Cluster.Kubeconfig, s.Cluster.KubeContext)
	}
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), keyCheckTimeout)
	defer cancel()
	return apikey.Lost(ctx, client, keyPlace(s, rel))
}

// keyPlace is where the release keeps the key on this stack's platform.
func keyPlace(s *settings.Settings, rel *catalog.Release) apikey.Where {
	if rel.APIKey.Handoff == catalog.HandoffConsul {
		const store = "consul" // the store's Service, in the services' namespace
		return apikey.Where{Consul: &apikey.ConsulKey{Namespace: s.Namespace, Service: store,
			Port: catalog.StorePorts[store], Key: microservice.TokenKeyPath}}
	}
	return apikey.Where{Namespaces: platform.KeySecretNamespaces(s)}
}
