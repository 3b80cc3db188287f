// Package backup keeps copies of the platform's data, on a volume of their own (local
// clusters) or in an S3 bucket (eks), and puts one back: a CronJob takes them (on its
// schedule, and whenever `make backup` makes a Job of it), a Job restores the one
// spaceone:restore names. Both run spaceone_backup.py (what a backup holds, and how a restore
// stops the writers and resumes, is written there), and the upgrade Job spaceone_upgrade.py,
// in the image of the catalogue's dataJobs service, which the platform pulls anyway: python3,
// pymongo, bson and boto3 from python-core's base, as on a real cluster (spacectl 1.10.4.2's
// image has no pymongo).
package backup

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

//go:embed spaceone_backup.py
var backupScript string

//go:embed spaceone_upgrade.py
var upgradeScript string

// Names of what this package creates, read by `make backup` and the tests.
const (
	CronJob           = "backup"   // the CronJob; `make backup` creates a Job from it
	Restore           = "restore"  // the restore Job, its ServiceAccount and Roles
	Upgrade           = "upgrade"  // the Job that moves the data to a new release, and its account
	Claim             = "backups"  // the backup volume's claim
	Dir               = "/backups" // where the volume is mounted
	scriptDir         = "/spaceone-backup"
	backupScriptName  = "spaceone_backup.py"
	upgradeScriptName = "spaceone_upgrade.py"
	// onDemand is the CronJob's schedule when backup.schedule is empty: it is then suspended
	// and only runs as the Jobs `make backup` makes of it (a CronJob needs some schedule).
	onDemand = "@yearly"
)

// Args is what the backups of one platform are made from.
type Args struct {
	Namespace    pulumi.StringInput
	Release      string // SpaceONE release: a backup names it, a restore checks it
	Image        string // the data Jobs' image (catalogue dataJobs)
	PullPolicy   string
	PullSecrets  []string
	Schedule     string // cron; "" = on demand only
	Keep         int
	Size         string
	StorageClass string // a class that retains released volumes ("" = the cluster default)
	// S3, when set, keeps the backups in a bucket instead of on a volume; the Jobs get an
	// emptyDir to work in.
	S3 *S3
	// Store is how the script logs in to the stores: MongoDB's root, and Consul when the
	// release runs one.
	Store corev1.EnvVarArray
	// Databases are the services' databases: each is in every backup, empty when it holds
	// nothing yet (MongoDB makes a database with its first document).
	Databases []string
}

// S3 is a bucket for the backups and the role the Jobs' service accounts assume (IRSA): the
// EKS webhook gives their pods a token for it, so no key is stored anywhere.
type S3 struct {
	Bucket  pulumi.StringInput
	RoleArn pulumi.StringInput
	Region  string
}

// ServiceAccounts are the accounts the backup, restore and upgrade Jobs run as: the ones a
// bucket's role trusts.
func ServiceAccounts() []string { return []string{CronJob, Restore, Upgrade} }

// Backups is the backup volume (or the bucket's role), the CronJob and, when asked for, the
// restore or upgrade Job.
type Backups struct {
	pulumi.ResourceState
	Claim   *corev1.PersistentVolumeClaim // nil with S3
	CronJob *batchv1.CronJob
	Restore *batchv1.Job // nil unless spaceone:restore is set
	Upgrade *batchv1.Job // nil unless this up moves the data to a new release

	args   *Args
	script *corev1.ConfigMap
	env    corev1.EnvVarArray
}

// New creates the backup volume (unless the backups go to S3), the scripts and the CronJob.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Backups, error) {
	b := &Backups{args: args}
	if err := ctx.RegisterComponentResource("spaceone:backup:Backups", name, b, opts...); err != nil {
		return nil, err
	}
	opt := pulumi.Parent(b)
	labels := kube.Labels(CronJob, "backup", "")
	var err error
	var stored []pulumi.Resource // what the Jobs write to
	if args.S3 == nil {
		if b.Claim, err = newClaim(ctx, args, labels, opt); err != nil {
			return nil, err
		}
		stored = append(stored, b.Claim)
	}
	cm, err := corev1.NewConfigMap(ctx, "backup-script", &corev1.ConfigMapArgs{
		Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}),
		Immutable: pulumi.Bool(true),
		Data:      pulumi.StringMap{backupScriptName: pulumi.String(backupScript), upgradeScriptName: pulumi.String(upgradeScript)},
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("creating the backup script: %w", err)
	}
	env := append(corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_RELEASE"), Value: pulumi.String(args.Release)},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_DIR"), Value: pulumi.String(Dir)},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_KEEP"), Value: pulumi.String(strconv.Itoa(args.Keep))},
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_DATABASES"), Value: pulumi.String(strings.Join(args.Databases, ","))},
	}, args.Store...)
	if args.S3 != nil {
		env = append(env,
			corev1.EnvVarArgs{Name: pulumi.String("BACKUP_BUCKET"), Value: args.S3.Bucket},
			corev1.EnvVarArgs{Name: pulumi.String("AWS_DEFAULT_REGION"), Value: pulumi.String(args.S3.Region)})
	}
	sa, err := b.account(ctx, CronJob, labels)
	if err != nil {
		return nil, err
	}

	schedule, suspend := args.Schedule, false
	if schedule == "" {
		schedule, suspend = onDemand, true
	}
	b.CronJob, err = batchv1.NewCronJob(ctx, CronJob, &batchv1.CronJobArgs{
		Metadata: kube.Meta(CronJob, args.Namespace, labels),
		Spec: &batchv1.CronJobSpecArgs{
			Schedule:          pulumi.String(schedule),
			Suspend:           pulumi.Bool(suspend),
			ConcurrencyPolicy: pulumi.String("Forbid"),
			// A run missed by more than an hour (the cluster was down) waits for the next one.
			StartingDeadlineSeconds:    pulumi.Int(3600),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec:     jobSpec(args, labels, cm, env, sa, "backup", false, []string{"python3", scriptDir + "/" + backupScriptName, "backup", "scheduled"}),
			},
		},
	}, opt, pulumi.DependsOn(append(stored, sa)))
	if err != nil {
		return nil, fmt.Errorf("creating the backup CronJob: %w", err)
	}
	b.script, b.env = cm, env
	where := pulumi.Map{}
	if b.Claim != nil {
		where["claim"] = b.Claim.Metadata.Name()
	} else {
		where["bucket"] = args.S3.Bucket
	}
	return b, ctx.RegisterResourceOutputs(b, where)
}

// newClaim is the backup volume's claim.
func newClaim(ctx *pulumi.Context, args *Args, labels pulumi.StringMap, opt pulumi.ResourceOption) (*corev1.PersistentVolumeClaim, error) {
	spec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(args.Size)}},
	}
	if args.StorageClass != "" {
		spec.StorageClassName = pulumi.String(args.StorageClass)
	}
	// The claim goes with the namespace on destroy; its volume, of a class that retains, stays
	// and is given back to the next up's claim of this name (cluster.Retention).
	meta := kube.Meta(Claim, args.Namespace, labels)
	// A WaitForFirstConsumer class binds it only with the first Job: up must not wait for that.
	meta.Annotations.(pulumi.StringMap)["pulumi.com/skipAwait"] = pulumi.String("true")
	claim, err := corev1.NewPersistentVolumeClaim(ctx, Claim, &corev1.PersistentVolumeClaimArgs{Metadata: meta, Spec: spec}, opt)
	if err != nil {
		return nil, fmt.Errorf("creating the backup volume claim: %w", err)
	}
	return claim, nil
}

// account is the ServiceAccount a Job of this kind runs as; with S3 it names the bucket's role.
func (b *Backups) account(ctx *pulumi.Context, kind string, labels pulumi.StringMap) (*corev1.ServiceAccount, error) {
	meta := kube.Meta(kind, b.args.Namespace, labels)
	if b.args.S3 != nil {
		meta.Annotations.(pulumi.StringMap)["eks.amazonaws.com/role-arn"] = b.args.S3.RoleArn
	}
	sa, err := corev1.NewServiceAccount(ctx, kind, &corev1.ServiceAccountArgs{
		Metadata:                     meta,
		AutomountServiceAccountToken: pulumi.Bool(false), // a Job that needs the API mounts it itself
	}, pulumi.Parent(b))
	if err != nil {
		return nil, fmt.Errorf("creating the %s ServiceAccount: %w", kind, err)
	}
	return sa, nil
}

// Run is what a restore or an upgrade needs besides the backups' own settings.
type Run struct {
	// Writers are the namespaces whose Deployments it stops while it runs.
	Writers []pulumi.StringInput
	// Waits are what it starts after.
	Waits kube.Waits
	// Env is more environment (an upgrade: the old release's Consul).
	Env corev1.EnvVarArray
	// DeleteClaims are claims of the core namespace it may delete (an upgrade: the volumes of
	// the stores the new release no longer runs).
	DeleteClaims []string
}

// RestoreJob runs the restore of backup name: one Job per name, and only a new name makes a
// new one (a later change of the script, the databases or the waits must not run a restore
// again over the data written since; the script also skips a backup already restored into
// this MongoDB).
func (b *Backups) RestoreJob(ctx *pulumi.Context, name string, r Run) (*batchv1.Job, error) {
	job, err := b.run(ctx, Restore, Restore+"-"+name, []string{"python3", scriptDir + "/" + backupScriptName, "restore", name}, r)
	b.Restore = job
	return job, err
}

// UpgradeJob moves the data from release from to release to (spaceone_upgrade.py), once.
func (b *Backups) UpgradeJob(ctx *pulumi.Context, from, to string, r Run) (*batchv1.Job, error) {
	job, err := b.run(ctx, Upgrade, Upgrade+"-"+from+"-to-"+to, []string{"python3", scriptDir + "/" + upgradeScriptName, from, to}, r)
	b.Upgrade = job
	return job, err
}

// run is a Job of the script with a ServiceAccount of its own, which may scale the
// Deployments of the writers' namespaces (and delete the claims named) and nothing else.
func (b *Backups) run(ctx *pulumi.Context, kind, jobName string, command []string, r Run) (*batchv1.Job, error) {
	opt := pulumi.Parent(b)
	args := b.args
	labels := kube.Labels(kind, kind, "")
	sa, err := b.account(ctx, kind, labels)
	if err != nil {
		return nil, err
	}
	deps := []pulumi.Resource{sa, b.script}
	if b.Claim != nil {
		deps = append(deps, b.Claim)
	}
	var writers pulumi.StringArray
	for i, ns := range r.Writers {
		rules := rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("apps")},
			Resources: pulumi.StringArray{pulumi.String("deployments")},
			Verbs:     pulumi.ToStringArray([]string{"get", "list", "patch"}),
		}}
		if i == 0 && len(r.DeleteClaims) > 0 { // the first writer namespace is the core one
			rules = append(rules, rbacv1.PolicyRuleArgs{
				ApiGroups:     pulumi.StringArray{pulumi.String("")},
				Resources:     pulumi.StringArray{pulumi.String("persistentvolumeclaims")},
				ResourceNames: pulumi.ToStringArray(r.DeleteClaims),
				Verbs:         pulumi.ToStringArray([]string{"delete"}),
			})
		}
		role, err := rbacv1.NewRole(ctx, fmt.Sprintf("%s-%d", kind, i), &rbacv1.RoleArgs{
			Metadata: kube.Meta(kind, ns, labels),
			Rules:    rules,
		}, opt)
		if err != nil {
			return nil, fmt.Errorf("creating the %s Role: %w", kind, err)
		}
		binding, err := kube.BindRole(ctx, fmt.Sprintf("%s-%d", kind, i), kube.Meta(kind, ns, labels), role,
			sa.Metadata.Name().Elem(), args.Namespace, opt)
		if err != nil {
			return nil, fmt.Errorf("binding the %s Role: %w", kind, err)
		}
		deps = append(deps, role, binding)
		writers = append(writers, ns)
	}
	env := append(append(slices.Clone(b.env), r.Env...),
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_WRITER_NAMESPACES"),
			Value: writers.ToStringArrayOutput().ApplyT(func(ns []string) string { return strings.Join(ns, ",") }).(pulumi.StringOutput)},
		corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_DELETE_CLAIMS"), Value: pulumi.String(strings.Join(r.DeleteClaims, ","))})
	spec := jobSpec(args, labels, b.script, env, sa, kind, true, command)
	job, err := batchv1.NewJob(ctx, kind, &batchv1.JobArgs{
		Metadata: r.Waits.Annotate(kube.Meta(jobName, args.Namespace, labels)),
		Spec:     spec,
	}, opt, pulumi.DependsOn(append(deps, r.Waits.Resources...)),
		pulumi.IgnoreChanges([]string{"spec", "metadata.annotations"}),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "30m", Update: "30m"}))
	if err != nil {
		return nil, fmt.Errorf("creating the %s Job: %w", kind, err)
	}
	return job, nil
}

// jobSpec is a run of a script of the ConfigMap cm.
func jobSpec(args *Args, labels pulumi.StringMap, cm *corev1.ConfigMap, env corev1.EnvVarArray, sa *corev1.ServiceAccount,
	container string, token bool, command []string) *batchv1.JobSpecArgs {
	// The backups' volume, or with S3 the Job's scratch space (a backup is written there, then
	// uploaded; a restore downloads its backup there).
	backups := corev1.VolumeArgs{Name: pulumi.String("backups"),
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: pulumi.String(Claim)}}
	if args.S3 != nil {
		backups = corev1.VolumeArgs{Name: pulumi.String("backups"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}}
	}
	return &batchv1.JobSpecArgs{
		BackoffLimit: pulumi.Int(2),
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: labels},
			Spec: &corev1.PodSpecArgs{
				RestartPolicy:                pulumi.String("Never"),
				ServiceAccountName:           sa.Metadata.Name().Elem(),
				AutomountServiceAccountToken: pulumi.Bool(token),
				ImagePullSecrets:             kube.PullSecrets(args.PullSecrets),
				Volumes: corev1.VolumeArray{
					corev1.VolumeArgs{Name: pulumi.String("script"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name().Elem()}},
					backups,
				},
				Containers: corev1.ContainerArray{corev1.ContainerArgs{
					Name:                     pulumi.String(container),
					Image:                    pulumi.String(args.Image),
					ImagePullPolicy:          pulumi.String(args.PullPolicy),
					Command:                  pulumi.ToStringArray(command),
					Env:                      env,
					TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
					VolumeMounts: corev1.VolumeMountArray{
						corev1.VolumeMountArgs{Name: pulumi.String("script"), MountPath: pulumi.String(scriptDir), ReadOnly: pulumi.Bool(true)},
						corev1.VolumeMountArgs{Name: pulumi.String("backups"), MountPath: pulumi.String(Dir)},
					},
					Resources:       kube.Resources("50m", "128Mi", "1", "1Gi"),
					SecurityContext: kube.RestrictedContainer(),
				}},
			},
		},
	}
}
