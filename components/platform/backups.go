package platform

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/stores"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// databases are the databases of the services the stack runs, each once, sorted.
func databases(plan *Plan) []string {
	var dbs []string
	for _, u := range dbUsers(plan) {
		for _, db := range u.Databases {
			if !slices.Contains(dbs, db) {
				dbs = append(dbs, db)
			}
		}
	}
	slices.Sort(dbs)
	return dbs
}

// consulEnv is how a Job reaches an in-cluster Consul.
func consulEnv(e stores.Endpoint) corev1.EnvVarArray {
	return corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("CONSUL_HOST"), Value: pulumi.String(e.Host)},
		corev1.EnvVarArgs{Name: pulumi.String("CONSUL_PORT"), Value: pulumi.String(strconv.Itoa(e.Port))},
	}
}

// writers are the namespaces whose Deployments write: the core one first, then the plugins'.
func writers(s interface{ SupervisorEnabled() bool }, core, plugins *corev1.Namespace) []pulumi.StringInput {
	w := []pulumi.StringInput{core.Metadata.Name().Elem()}
	if s.SupervisorEnabled() {
		w = append(w, plugins.Metadata.Name().Elem())
	}
	return w
}

// deployBackups gives a stack with an in-cluster MongoDB its backup volume (or, on eks, the
// bucket and its role) and CronJob, right after the stores.
func (p *Platform) deployBackups(ctx *pulumi.Context, args *Args, core, plugins *corev1.Namespace) error {
	s := args.Settings
	if !s.Backups() {
		return nil
	}
	rel := args.Plan.Release
	env := p.MongoDB.RootEnv()
	if p.Consul != nil {
		env = append(env, consulEnv(p.Consul.Endpoint)...)
	}
	ba := &backup.Args{
		Namespace: core.Metadata.Name().Elem(), Release: rel.Version,
		Image:      args.Plan.DataJobImage(),
		PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
		Schedule: s.Backup.Schedule, Keep: s.Backup.Keep, Size: s.Backup.Size,
		StorageClass: args.Cluster.Capabilities().RetainClass,
		Store:        env,
		Databases:    databases(args.Plan),
	}
	if s.Backup.S3 != nil {
		if b := args.Cluster.Capabilities().Backups; b != nil {
			ba.S3 = &backup.S3{Bucket: b.Name, RoleArn: b.RoleArn, Region: b.Region}
		} else {
			// Rendering an eks stack makes no AWS resources: the manifests name what up makes.
			ba.S3 = &backup.S3{Bucket: pulumi.String(cmp.Or(s.Backup.S3.Bucket, "the-stacks-backup-bucket")),
				RoleArn: pulumi.String("the-backup-jobs-role"), Region: s.Cluster.EKS.Region}
		}
	}
	var err error
	if p.Backups, err = backup.New(ctx, "backups", ba, pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{core, plugins})); err != nil {
		return fmt.Errorf("backups: %w", err)
	}
	p.Images[backup.CronJob] = ba.Image
	return nil
}

// deployUpgrade runs, in the up that changes the release with the data, the upgrade Job,
// which everything of the new release waits for (the start order).
func (p *Platform) deployUpgrade(ctx *pulumi.Context, args *Args, core, plugins *corev1.Namespace) error {
	s, rel, up := args.Settings, args.Plan.Release, args.Plan.Upgrade
	from, err := catalog.Load(up.From)
	if err != nil {
		return fmt.Errorf("upgrade from %s: %w", up.From, err)
	}
	run := backup.Run{Writers: writers(s, core, plugins)}
	if run.Waits, err = p.started.waits(backup.Upgrade); err != nil {
		return err
	}
	// The stores the old release ran and this one does not still run until the end of this up
	// (a removed resource goes last): the move reads them, and deletes their claims.
	for _, store := range from.Stores {
		if rel.UsesStore(store) {
			continue
		}
		if store == "consul" {
			// the Service the old release's Consul had, on its port
			run.Env = append(run.Env, consulEnv(stores.Endpoint{Host: store, Port: catalog.StorePorts[store]})...)
		}
		run.DeleteClaims = append(run.DeleteClaims, volumes.StoreClaim(s.Namespace, store).Name)
	}
	job, err := p.Backups.UpgradeJob(ctx, up.From, up.To, run)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	p.Images[backup.Upgrade] = p.Images[backup.CronJob]
	p.started.add(backup.Upgrade, job)
	return nil
}

// deployRestore runs the restore spaceone:restore asks for, in the start order
// (NewStartOrder): after everything that runs before the initializer, which it stops and
// starts again, and before the initializer, so the first up of a new platform restores
// before anything is initialised and the initializer finds the restored root domain.
func (p *Platform) deployRestore(ctx *pulumi.Context, args *Args, core, plugins *corev1.Namespace) error {
	s := args.Settings
	run := backup.Run{Writers: writers(s, core, plugins)}
	var err error
	if run.Waits, err = p.started.waits(backup.Restore); err != nil {
		return err
	}
	job, err := p.Backups.RestoreJob(ctx, s.Restore, run)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	p.Images[backup.Restore] = p.Images[backup.CronJob]
	p.started.add(backup.Restore, job)
	return nil
}
