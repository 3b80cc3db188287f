package stores

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/credentials"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// MongoDB image, pinned.
const (
	mongoRepository = "mongo"
	mongoTag        = "6.0.13"
	mongoRootUser   = "root"
)

// MongoDBRootSecret holds the in-cluster MongoDB's root password (key "password").
const MongoDBRootSecret = "mongodb-root"

// DBUser is one service's database and login.
type DBUser struct {
	Service   string   // catalogue service name, e.g. cost-analysis
	Databases []string // readWrite on each; the first is the service's own
	Username  string
}

// ExternalMongoDB points at a MongoDB outside the cluster; every service logs in as Username.
type ExternalMongoDB struct {
	Host     string
	Port     int
	Username string
	Password pulumi.StringOutput
}

// MongoDBArgs configures the MongoDB store.
type MongoDBArgs struct {
	Common
	Users    []DBUser
	External *ExternalMongoDB // when set, nothing is deployed
	// CredentialSeed derives the root password (see package credentials); nil: random.
	CredentialSeed *pulumi.StringOutput
	// PasswordRotation is stores.mongodb.rotateUserPasswords: each value derives other
	// passwords for the service users ("" = the first ones).
	PasswordRotation string
}

// MongoDB is the document store of every SpaceONE service: one database and one user per service.
type MongoDB struct {
	pulumi.ResourceState

	Endpoint     Endpoint
	RootPassword pulumi.StringOutput // secret; empty for an external MongoDB
	users        map[string]DBUser
	passwords    map[string]pulumi.StringOutput
	external     *ExternalMongoDB
	Ready        []pulumi.Resource // what a client must wait for
	// what the users Job needs of the StatefulSet
	common   Common
	usersEnv corev1.EnvVarArray
}

// NewMongoDB deploys MongoDB (or records the external one) and the per-service users.
func NewMongoDB(ctx *pulumi.Context, name string, args *MongoDBArgs, opts ...pulumi.ResourceOption) (*MongoDB, error) {
	m := &MongoDB{users: map[string]DBUser{}, passwords: map[string]pulumi.StringOutput{}, external: args.External}
	if err := ctx.RegisterComponentResource("spaceone:stores:MongoDB", name, m, opts...); err != nil {
		return nil, err
	}
	for _, u := range args.Users {
		m.users[u.Service] = u
	}
	if ext := args.External; ext != nil {
		m.Endpoint = Endpoint{Host: ext.Host, Port: ext.Port}
		for _, u := range args.Users {
			m.passwords[u.Service] = ext.Password
		}
		return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"host": pulumi.String(ext.Host)})
	}

	labels := kube.Labels("mongodb", "store", mongoTag)
	root, err := credentials.NewGenerated(ctx, name+"-root", MongoDBRootSecret, args.Namespace, labels,
		[]string{"password"}, args.CredentialSeed, pulumi.Parent(m))
	if err != nil {
		return nil, err
	}
	m.RootPassword = root.Value("password")

	// One derived password per service user, in the Secret mongodb-users; the users Job reads
	// them from its environment, so its script (a ConfigMap) holds no secret.
	userData := map[string]pulumi.StringOutput{}
	type jobUser struct {
		User string   `json:"user"`
		DBs  []string `json:"dbs"`
		Env  string   `json:"env"`
	}
	var list []jobUser
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("MONGO_INITDB_ROOT_USERNAME"), Value: pulumi.String(mongoRootUser)},
		secretEnv("MONGO_INITDB_ROOT_PASSWORD", MongoDBRootSecret, "password"),
		corev1.EnvVarArgs{Name: pulumi.String("MONGO_INITDB_DATABASE"), Value: pulumi.String("admin")},
	}
	var usersEnv corev1.EnvVarArray // each user's password, then the list of users
	services := make([]string, 0, len(args.Users))
	for _, u := range args.Users {
		services = append(services, u.Service)
	}
	sort.Strings(services)
	for _, svc := range services {
		u := m.users[svc]
		purpose := "mongodb-user:" + u.Username
		if args.PasswordRotation != "" {
			purpose += ":" + args.PasswordRotation
		}
		pw := credentials.Derive(m.RootPassword, purpose)
		m.passwords[svc] = pw
		userData[u.Username] = pw
		envName := "SPACEONE_DB_PASSWORD_" + strings.ToUpper(strings.ReplaceAll(u.Username, "-", "_"))
		list = append(list, jobUser{User: u.Username, DBs: u.Databases, Env: envName})
		usersEnv = append(usersEnv, secretEnv(envName, "mongodb-users", u.Username))
	}
	usersSecret, err := corev1.NewSecret(ctx, name+"-users", &corev1.SecretArgs{
		Metadata: kube.Meta("mongodb-users", args.Namespace, labels),
		Type:     pulumi.String("Opaque"),
		Data:     kube.SecretData(userData),
	}, pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("creating secret mongodb-users: %w", err)
	}
	usersJSON, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	// The users are the Job's business, not the StatefulSet's: a service enabled later does
	// not restart MongoDB.
	usersEnv = append(usersEnv, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_DB_USERS"), Value: pulumi.String(string(usersJSON))})
	if args.PasswordRotation != "" {
		// The passwords reach the Job by reference to their Secret: naming the rotation makes
		// the Job new, so the up that rotates them sets them on the users.
		usersEnv = append(usersEnv, corev1.EnvVarArgs{Name: pulumi.String("SPACEONE_DB_PASSWORDS"), Value: pulumi.String(args.PasswordRotation)})
	}

	ready, err := deploy(ctx, m, args.Common, workload{
		name: "mongodb", repository: mongoRepository, tag: mongoTag,
		port: catalog.StorePorts["mongodb"], portName: "mongodb", uid: 999, gid: 999, dataPath: "/data/db",
		args:      []string{"--bind_ip_all"},
		env:       env,
		resources: kube.Resources("100m", "256Mi", "1", "1Gi"),
		readiness: execProbe("mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"),
		deps:      []pulumi.Resource{root.Secret, usersSecret},
	})
	if err != nil {
		return nil, err
	}
	m.Endpoint = Endpoint{Host: "mongodb", Port: catalog.StorePorts["mongodb"]}
	m.Ready = ready
	m.common, m.usersEnv = args.Common, usersEnv
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"host": pulumi.String("mongodb")})
}

// usersScript is the Job's program (package doc in the file).
//
//go:embed mongodb_users.py
var usersScript string

// UsersJob creates or updates every service user of an in-cluster MongoDB, with its password
// and grants, logged in as root, in image (one the platform pulls anyway with python3 and
// pymongo: the catalogue's dataJobs service's). It runs at the first install and on every later up that
// changes the users (a service enabled on kept data, a release with new databases): the mongo
// image's own init scripts run only on an empty volume. It is auto-named: a change to the
// users or to the script makes a new Job, which `up` waits for; the passwords are derived from
// the root password and the user name (and stores.mongodb.rotateUserPasswords, which names
// the Job anew), so they change with nothing else.
func (m *MongoDB) UsersJob(ctx *pulumi.Context, name, image string, waits kube.Waits) (*batchv1.Job, error) {
	// Labels of its own: with MongoDB's, its pod would be an endpoint of the mongodb Service
	// (seen on the real node: half the connections to MongoDB refused while it ran).
	c, usersEnv, opt := m.common, m.usersEnv, pulumi.Parent(m)
	labels := kube.Labels(name, "database-users", mongoTag)
	cm, err := corev1.NewConfigMap(ctx, "mongodb-users-script", &corev1.ConfigMapArgs{
		Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: c.Namespace, Labels: labels}),
		Immutable: pulumi.Bool(true),
		Data:      pulumi.StringMap{"mongodb_users.py": pulumi.String(usersScript)},
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("creating the mongodb users script: %w", err)
	}
	// The root login, the users and their passwords.
	jobEnv := append(m.RootEnv(), usersEnv...)
	const dir = "/mongodb-users"
	job, err := batchv1.NewJob(ctx, name, &batchv1.JobArgs{
		Metadata: waits.Annotate(kube.Managed(&metav1.ObjectMetaArgs{Namespace: c.Namespace, Labels: labels})),
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(3),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("Never"),
					AutomountServiceAccountToken: pulumi.Bool(false),
					ImagePullSecrets:             kube.PullSecrets(c.PullSecrets),
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("script"),
						ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name().Elem()}}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:                     pulumi.String("mongodb-users"),
						Image:                    pulumi.String(image),
						ImagePullPolicy:          pulumi.String(c.PullPolicy),
						Command:                  pulumi.ToStringArray([]string{"python3", dir + "/mongodb_users.py"}),
						Env:                      jobEnv,
						TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
							Name: pulumi.String("script"), MountPath: pulumi.String(dir), ReadOnly: pulumi.Bool(true)}},
						Resources:       kube.Resources("20m", "64Mi", "500m", "256Mi"),
						SecurityContext: kube.RestrictedContainer(),
					}},
				},
			},
		},
	}, opt, pulumi.DependsOn(append([]pulumi.Resource{cm}, waits.Resources...)),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "5m", Update: "5m"}))
	if err != nil {
		return nil, fmt.Errorf("creating the mongodb users job: %w", err)
	}
	return job, nil
}

// RootEnv is how a Job of the platform's logs in to the in-cluster MongoDB as root:
// MONGO_HOST, MONGO_PORT, MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD (from its Secret).
func (m *MongoDB) RootEnv() corev1.EnvVarArray {
	return corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("MONGO_HOST"), Value: pulumi.String("mongodb")},
		corev1.EnvVarArgs{Name: pulumi.String("MONGO_PORT"), Value: pulumi.String(strconv.Itoa(catalog.StorePorts["mongodb"]))},
		corev1.EnvVarArgs{Name: pulumi.String("MONGO_ROOT_USERNAME"), Value: pulumi.String(mongoRootUser)},
		secretEnv("MONGO_ROOT_PASSWORD", MongoDBRootSecret, "password"),
	}
}

// Username is the login of service's database user.
func (m *MongoDB) Username(service string) string {
	if m.external != nil {
		return m.external.Username
	}
	return m.users[service].Username
}

// Password is the password of service's database user (a Pulumi secret).
func (m *MongoDB) Password(service string) pulumi.StringOutput { return m.passwords[service] }

func secretEnv(name, secret, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{
		Name: pulumi.String(name),
		ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
			Name: pulumi.String(secret), Key: pulumi.String(key),
		}},
	}
}
