// Package program is the whole Pulumi program, kept out of package main so that unit tests
// (Pulumi mocks) run exactly what `pulumi up` runs.
package program

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/cluster"
	"github.com/spaceone-pulumi/spaceone/components/devendpoints"
	"github.com/spaceone-pulumi/spaceone/components/platform"
	"github.com/spaceone-pulumi/spaceone/components/releasechange"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// Run is the Pulumi program: Build, then export its outputs.
func Run(ctx *pulumi.Context) error {
	outputs, err := Build(ctx)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}

// Build reads the stack configuration, validates all of it, and only then registers
// resources. It returns the stack outputs.
func Build(ctx *pulumi.Context) (pulumi.Map, error) {
	s, plan, err := load(ctx)
	if err != nil {
		return nil, err
	}
	var last lastUp
	if s.RenderDir == "" { // rendering has no deployed state
		if last, err = readDeployed(ctx); err != nil {
			return nil, fmt.Errorf("reading what this stack deployed: %w", err)
		}
	}
	if err := guardReleaseChange(ctx, s, plan, last.release); err != nil {
		return nil, err
	}
	repairLostKey(ctx, s, plan, last)
	if plan.StartOrder, err = platform.NewStartOrder(s, plan); err != nil {
		return nil, err
	}
	cl, err := newCluster(ctx, s)
	if err != nil {
		return nil, err
	}
	p, err := platform.New(ctx, "spaceone", &platform.Args{Settings: s, Cluster: cl, Plan: plan})
	if err != nil {
		return nil, fmt.Errorf("deploying spaceone: %w", err)
	}
	outs, err := outputs(s, plan, p)
	if err != nil {
		return nil, err
	}
	if e, ok := cl.(*cluster.Eks); ok {
		outs["kubeconfig"] = e.Kubeconfig // secret: pulumi stack output kubeconfig --show-secrets > kubeconfig.json
		outs["clusterName"] = pulumi.String(s.Cluster.EKS.Name)
		outs["region"] = pulumi.String(s.Cluster.EKS.Region)
		if b := e.Capabilities().Backups; b != nil {
			// Kept when the stack is destroyed: backup.s3.bucket gives it to a later stack.
			outs["backupBucket"] = b.Name
		}
	}
	return outs, nil
}

// load reads and checks the stack's configuration against its release: everything the
// platform is built from, before any resource exists.
func load(ctx *pulumi.Context) (*settings.Settings, *platform.Plan, error) {
	rel, err := catalog.Load(settings.ReleaseOf(stackConfig{ctx}))
	if err != nil {
		return nil, nil, fmt.Errorf("spaceone:release: %w", err)
	}
	s, err := settings.Load(stackConfig{ctx}, rel)
	var problems settings.Problems
	if errors.As(err, &problems) {
		// One round: what only the catalogue can judge is reported with the rest.
		var planProblems settings.Problems
		if _, planErr := platform.NewPlan(s, rel); errors.As(planErr, &planProblems) {
			problems = append(problems, planProblems...)
		}
		return nil, nil, problems
	}
	if err != nil {
		return nil, nil, err
	}
	if s.CredentialSeed == nil && s.RenderDir == "" {
		_ = ctx.Log.Warn("spaceone:credentialSeed is not set, so generated passwords live only in their Kubernetes Secrets: "+
			"a destroy with stores.keepVolumes, or an interrupted up, can lose them. make up sets one; by hand: "+
			"head -c 32 /dev/urandom | base64 | pulumi config set --secret credentialSeed", nil)
	}
	plan, err := platform.NewPlan(s, rel)
	if err != nil {
		return nil, nil, err
	}
	return s, plan, nil
}

// guardReleaseChange refuses, before any resource is touched, to switch the release of a
// stack that holds data unless the user confirmed the migration; a preview only warns.
func guardReleaseChange(ctx *pulumi.Context, s *settings.Settings, plan *platform.Plan, deployed string) error {
	if s.RenderDir != "" {
		return nil // rendering has no deployed state
	}
	change := releasechange.Change{Deployed: deployed, Wanted: plan.Release.Version,
		Confirmed: s.ConfirmReleaseChange, Migration: plan.Release.DataMigration}
	if up, ok := plan.Release.UpgradeFrom[deployed]; ok {
		change.Moves = up.Deletes
	}
	if from, err := catalog.Load(deployed); err == nil && change.Pending() {
		if _, back := from.UpgradeFrom[change.Wanted]; back {
			err := fmt.Errorf("spaceone:release: this stack runs SpaceONE %s, moved there from %s with its data; there is no move back. "+
				"Keep the release (pulumi config set release %s), or destroy the stack and restore into a %s stack the backup "+
				"the upgrade took (its name is in the upgrade Job's log; README, \"Backups and restore\")", deployed, change.Wanted, deployed, change.Wanted)
			if ctx.DryRun() {
				_ = ctx.Log.Warn(err.Error()+" (a preview: up refuses this)", nil)
				return nil
			}
			return err
		}
	}
	if change.Upgrades() {
		switch {
		case !s.Backups():
			return fmt.Errorf("spaceone:release: up moves the data from %s to %s after a backup of it, which this stack does not "+
				"take (MongoDB is external): back the data up and migrate it yourself (the README, \"Releases\"), "+
				"or keep the release: pulumi config set release %s", deployed, change.Wanted, deployed)
		case s.Restore != "":
			return fmt.Errorf("spaceone:restore: a restore and a release change in one up; restore first (with the release the backup was taken from), then change the release")
		}
		plan.Upgrade = &platform.Upgrade{From: deployed, To: change.Wanted}
		_ = ctx.Log.Warn(fmt.Sprintf("spaceone:release: this up moves the data from %s to %s: a backup of everything first "+
			"(make restore of it into a %s stack is the way back), then it deletes %s", deployed, change.Wanted, deployed, change.Moves), nil)
	}
	err := change.Check()
	switch {
	case err != nil && ctx.DryRun():
		_ = ctx.Log.Warn(err.Error()+" (a preview: up refuses this)", nil)
		return nil
	case err != nil:
		return err
	case !change.Pending() && s.ConfirmReleaseChange != "":
		// After an upgrade, its finished Job stays in the stack while the setting names it: the
		// up after the move changes nothing. Removing the setting removes the Job.
		from, to, _ := strings.Cut(strings.TrimSpace(s.ConfirmReleaseChange), "->")
		if _, moved := plan.Release.UpgradeFrom[from]; moved && to == deployed && s.Backups() && s.Restore == "" {
			plan.Upgrade = &platform.Upgrade{From: from, To: to}
			_ = ctx.Log.Info(fmt.Sprintf("%s names the move from %s, which is done: its Job stays until you remove the setting", releasechange.ConfirmKey, from), nil)
			return nil
		}
		_ = ctx.Log.Warn(releasechange.ConfirmKey+" is set, but the release does not change: remove it", nil)
	}
	return nil
}

// releaseBeforeTheOutput is what a stack ran when it was deployed before its release became
// a stack output (it was the only release then; the default is another one now).
const releaseBeforeTheOutput = "1.10.4"

// lastUp is what the stack's last update left in its outputs: the release it deployed ("" when
// it deployed nothing: its own "release" output, read through a reference to the stack itself),
// the mark of the last key repair and, on eks, the cluster's kubeconfig.
type lastUp struct {
	release    string // "" = nothing deployed
	keyRepair  string // the last repair of a lost API key (Plan.KeyRepair)
	kubeconfig string // an eks cluster's kubeconfig (a secret output; "" elsewhere)
}

// readDeployed reads the stack's own outputs (a StackReference to itself; once per run).
func readDeployed(ctx *pulumi.Context) (lastUp, error) {
	self := ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
	ref, err := pulumi.NewStackReference(ctx, "deployed", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return lastUp{}, err
	}
	str := func(key string) (string, bool, error) {
		out, err := ref.GetOutputDetails(key)
		if err != nil {
			return "", false, err
		}
		if out.SecretValue != nil {
			v, _ := out.SecretValue.(string)
			return v, true, nil
		}
		v, ok := out.Value.(string)
		return v, ok || out.Value != nil, nil
	}
	var d lastUp
	var ok bool
	if d.release, ok, err = str("release"); err != nil {
		return d, err
	}
	if !ok {
		// A stack deployed before the release was an output ran the only release there was then.
		if _, had, err := str("namespace"); err == nil && had {
			d.release = releaseBeforeTheOutput
		}
	}
	if d.keyRepair, _, err = str(keyRepairOutput); err != nil {
		return d, err
	}
	if d.kubeconfig, _, err = str("kubeconfig"); err != nil {
		return d, err
	}
	return d, nil
}

// stackConfig is the stack configuration as settings reads it: the context's, plus the list
// of every key set, which the engine hands the program in PULUMI_CONFIG.
type stackConfig struct{ *pulumi.Context }

func (c stackConfig) ConfigKeys() []string {
	var all map[string]string
	_ = json.Unmarshal([]byte(os.Getenv(pulumi.EnvConfig)), &all)
	return slices.Collect(maps.Keys(all))
}

// outputs are what a user needs after `up`: where the console is, how to log in, what runs.
func outputs(s *settings.Settings, plan *platform.Plan, p *platform.Platform) (pulumi.Map, error) {
	images := pulumi.StringMap{}
	for _, sp := range plan.Services {
		images[sp.Name] = pulumi.String(sp.Image)
	}
	for name, img := range p.Images {
		images[name] = pulumi.String(img)
	}
	devPorts, endpoints := pulumi.StringMap{}, map[string]devendpoints.Endpoint{}
	for name, e := range p.DevEndpoints {
		devPorts[name] = pulumi.String(e.Address())
		endpoints[name] = e.Output()
	}
	devEndpoints, err := devendpoints.Map(endpoints)
	if err != nil {
		return nil, fmt.Errorf("the devEndpoints output: %w", err)
	}
	return pulumi.Map{
		"release":         pulumi.String(plan.Release.Version), // what the release-change guard reads back
		keyRepairOutput:   pulumi.String(plan.KeyRepair),       // the last repair of a lost API key, read back by the next up
		"namespace":       p.Namespace,
		"pluginNamespace": p.PluginNamespace,
		"consoleUrl":      pulumi.String(s.ConsoleURL()),
		"consoleApiUrl":   pulumi.String(s.ConsoleAPIURL()),
		"adminDomain":     pulumi.String(s.Domain),
		"adminUser":       pulumi.String(s.AdminUser),
		"adminPassword":   p.AdminPassword, // a secret: `pulumi stack output adminPassword --show-secrets`
		"images":          images,
		"openConsole":     pulumi.String(openConsole(s)),
		"devPorts":        devPorts,                   // where a laptop's processes reach each service and store
		"devEndpoints":    pulumi.ToMap(devEndpoints), // the same, with what runs where and what make dev-connect forwards
		"devConfig":       p.DevConfig,                // secret: `pulumi stack output devConfig --show-secrets`
	}, nil
}

// openConsole is the command that brings the console to a laptop's browser.
func openConsole(s *settings.Settings) string {
	switch s.Console.Expose {
	case "portForward":
		return fmt.Sprintf("kubectl -n %[1]s port-forward svc/console %[3]d:80 & kubectl -n %[1]s port-forward svc/console-api %[4]d:80 & open %[2]s",
			s.Namespace, s.ConsoleURL(), settings.ConsoleForwardPort, settings.ConsoleAPIForwardPort)
	default:
		return "open " + s.ConsoleURL()
	}
}

func newCluster(ctx *pulumi.Context, s *settings.Settings) (cluster.Cluster, error) {
	switch {
	case s.RenderDir != "" && s.Cluster.Type == "eks":
		// Rendering needs no cluster: the Kubernetes side of an EKS stack, without AWS.
		return cluster.NewLocal(ctx, "cluster", &cluster.LocalArgs{RenderDir: s.RenderDir, StorageClass: cmp.Or(s.Stores.StorageClass, "gp3"), IngressClass: "alb"})
	case s.Cluster.Type == "eks":
		args := &cluster.EksArgs{Settings: s.Cluster.EKS, StorageClass: s.Stores.StorageClass,
			KeepVolumes: *s.Stores.KeepVolumes, Claims: storeClaims(s)}
		if s.Backups() {
			args.Backup = &cluster.BackupArgs{Bucket: s.Backup.S3.Bucket, VersionDays: s.Backup.S3.VersionDays,
				Namespace: s.Namespace, ServiceAccounts: backup.ServiceAccounts()}
		}
		return cluster.NewEks(ctx, "eks", args)
	default:
		args := &cluster.LocalArgs{
			KubeContext: s.Cluster.KubeContext, Kubeconfig: s.Cluster.Kubeconfig, RenderDir: s.RenderDir,
			StorageClass: s.Stores.StorageClass,
		}
		// The backup volume always outlives destroy; the stores' with stores.keepVolumes.
		if (*s.Stores.KeepVolumes || s.Backups()) && s.RenderDir == "" {
			vc, err := connectVolumes(s.Cluster.Kubeconfig, s.Cluster.KubeContext)
			if err != nil {
				return nil, fmt.Errorf("reading the cluster's storage classes and kept volumes (stores.keepVolumes, backups): %w", err)
			}
			r := &cluster.Retention{Volumes: vc, KeepStores: *s.Stores.KeepVolumes}
			if r.KeepStores {
				r.Claims = storeClaims(s)
			}
			if s.Backups() {
				r.Claims = append(r.Claims, volumes.Claim{Namespace: s.Namespace, Name: backup.Claim})
			}
			args.Retention = r
		}
		return cluster.NewLocal(ctx, "cluster", args)
	}
}

// storeClaims are the claims of the stores that run in the cluster.
func storeClaims(s *settings.Settings) []volumes.Claim {
	var claims []volumes.Claim
	for _, store := range s.InClusterStores() {
		claims = append(claims, volumes.StoreClaim(s.Namespace, store))
	}
	return claims
}

// connectVolumes reaches the API server of a local cluster for kept volumes; unit
// tests replace it with a fake cluster.
var connectVolumes = func(kubeconfig, kubeContext string) (volumes.Cluster, error) {
	return volumes.NewKube(kubeconfig, kubeContext)
}
