// Package program is the whole Pulumi program, kept out of package main so that unit tests
// (Pulumi mocks) run exactly what `pulumi up` runs.
package program

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/cluster"
	"github.com/spaceone-pulumi/spaceone/components/platform"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// Run reads the stack configuration, validates all of it, and only then registers resources.
func Run(ctx *pulumi.Context) error {
	release, ok := ctx.GetConfig("spaceone:release")
	if !ok {
		release = "1.10.4"
	}
	rel, err := catalog.Load(release)
	if err != nil {
		return fmt.Errorf("spaceone:release: %w", err)
	}
	s, err := settings.Load(ctx, rel)
	if err != nil {
		return err
	}
	plan, err := platform.NewPlan(s, rel)
	if err != nil {
		return err
	}
	cl, err := newCluster(ctx, s)
	if err != nil {
		return err
	}
	p, err := platform.New(ctx, "spaceone", &platform.Args{Settings: s, Cluster: cl, Plan: plan})
	if err != nil {
		return fmt.Errorf("deploying spaceone: %w", err)
	}
	ctx.Export("namespace", p.Namespace)
	ctx.Export("pluginNamespace", p.PluginNamespace)
	return nil
}

func newCluster(ctx *pulumi.Context, s *settings.Settings) (cluster.Cluster, error) {
	switch s.Cluster.Type {
	case "local":
		return cluster.NewLocal(ctx, "cluster", &cluster.LocalArgs{
			KubeContext: s.Cluster.KubeContext, Kubeconfig: s.Cluster.Kubeconfig, RenderDir: s.RenderDir,
		})
	default:
		return nil, fmt.Errorf("spaceone:clusterType %q: not available in this build", s.Cluster.Type)
	}
}
