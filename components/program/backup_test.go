package program

import (
	"slices"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

const (
	cronJob = "kubernetes:batch/v1:CronJob"
	job     = "kubernetes:batch/v1:Job"
	pvc     = "kubernetes:core/v1:PersistentVolumeClaim"
	role    = "kubernetes:rbac.authorization.k8s.io/v1:Role"
)

// deletingClass is minikube's default class: it deletes a volume once its claim goes.
func deletingClass() *fakeVolumes {
	return &fakeVolumes{classes: map[string]*volumes.Class{"": {
		Name: "standard", Provisioner: "k8s.io/minikube-hostpath", ReclaimPolicy: "Delete", VolumeBindingMode: "Immediate",
	}}}
}

// withCluster runs the program against a fake API server for the volumes it keeps.
func withCluster(t *testing.T, fake *fakeVolumes, cfg testkit.Config, secretKeys ...string) *testkit.Mocks {
	t.Helper()
	saved := connectVolumes
	connectVolumes = func(string, string) (volumes.Cluster, error) { return fake, nil }
	t.Cleanup(func() { connectVolumes = saved })
	m := &testkit.Mocks{}
	if err := testkit.RunWith(m, Run, cfg, secretKeys...); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every local stack can take a backup (make backup): the CronJob is there, suspended without
// a schedule; its volume comes from a class that keeps it across destroy, even when the
// stores' volumes are not kept, and an earlier destroy's volume is asked for again.
func TestEveryLocalStackHasABackupVolumeThatOutlivesDestroy(t *testing.T) {
	for _, schedule := range []string{"", "0 3 * * *"} {
		fake := deletingClass()
		cfg := testkit.Config{"clusterType": "local", "kubeContext": "minikube", "release": "1.10.4"}
		if schedule != "" {
			cfg["backup"] = map[string]any{"schedule": schedule, "keep": 3}
		}
		m := withCluster(t, fake, cfg)
		cj := m.Find(cronJob, backup.CronJob)
		if cj == nil {
			t.Fatalf("schedule %q: no CronJob %s", schedule, backup.CronJob)
		}
		suspended := cj.Get("spec.suspend").IsBool() && cj.Get("spec.suspend").BoolValue()
		if suspended != (schedule == "") || schedule != "" && cj.String("spec.schedule") != schedule {
			t.Errorf("schedule %q: CronJob schedule %q, suspended %v", schedule, cj.String("spec.schedule"), suspended)
		}
		claim := m.Find(pvc, backup.Claim)
		if claim == nil || claim.String("spec.storageClassName") != "standard-retain" {
			t.Fatalf("schedule %q: the backup claim is %v; want one of class standard-retain", schedule, claim)
		}
		for sts, class := range claimClasses(t, m) {
			if class == "standard-retain" {
				t.Errorf("%s claims from the retaining class, though stores.keepVolumes is off", sts)
			}
		}
		if !slices.Contains(fake.asked, volumes.Claim{Namespace: "spaceone", Name: backup.Claim}) || len(fake.asked) != 1 {
			t.Errorf("kept volumes asked for %v; want the backup claim only", fake.asked)
		}
		env := strings.Join(envNames(cj, "spec.jobTemplate.spec.template.spec"), " ")
		for _, want := range []string{"MONGO_ROOT_PASSWORD", "CONSUL_HOST", "SPACEONE_RELEASE", "BACKUP_KEEP", "SPACEONE_DATABASES"} {
			if !strings.Contains(env, want) {
				t.Errorf("the backup container has no %s (env: %s)", want, env)
			}
		}
	}
}

// A restore runs after everything that runs before the initializer, may scale Deployments in
// the two namespaces and do nothing else, and the initializer and every token consumer come
// after it (a new backup name restarts the consumers, which then read the key the initializer
// found or made).
func TestRestoreRunsBeforeTheInitializerAndRestartsTheConsumers(t *testing.T) {
	name := "spaceone-1.10.4-20261207-031500"
	m := withCluster(t, deletingClass(), testkit.Config{"clusterType": "local", "kubeContext": "minikube", "release": "1.10.4", "restore": name})
	restore := m.Find(job, backup.Restore)
	if restore == nil {
		t.Fatal("no restore Job")
	}
	if restore.KubeName() != backup.Restore+"-"+name {
		t.Errorf("the restore Job is named %q; a new backup name must make a new Job, and nothing else", restore.KubeName())
	}
	waits := restore.Object("metadata.annotations")[kube.WaitsForAnnotation].StringValue()
	for _, w := range []string{"mongodb", "consul", "db-users", "identity", "secret"} {
		if !slices.Contains(strings.Split(waits, ","), w) {
			t.Errorf("the restore does not wait for %s (waits for %s)", w, waits)
		}
	}
	for _, after := range []string{"initializer", "inventory-scheduler", "supervisor"} {
		if slices.Contains(strings.Split(waits, ","), after) {
			t.Errorf("the restore waits for %s, which comes after it (waits for %s)", after, waits)
		}
	}
	// inventory's gRPC server (1.10.4) is no token consumer, but its scheduler is: the service
	// is deployed in one piece after the initializer, so the server starts after the restore.
	if inv := m.Find(deployment, "inventory"); inv == nil ||
		!slices.Contains(strings.Split(inv.Object("metadata.annotations")[kube.WaitsForAnnotation].StringValue(), ","), backup.Restore) {
		t.Errorf("inventory's gRPC server does not wait for the restore: %v", inv)
	}
	if slices.Contains(strings.Split(waits, ","), "inventory") {
		t.Errorf("the restore waits for inventory, deployed with its scheduler after the initializer (waits for %s)", waits)
	}
	init := m.Find(job, "initializer")
	if init == nil || !strings.Contains(init.Object("metadata.annotations")[kube.WaitsForAnnotation].StringValue(), backup.Restore) {
		t.Error("the initializer does not wait for the restore")
	}
	if got := initializerManifest(t, m).Restored; got == "" {
		t.Error("the initializer's Job does not change with the restore (its manifest names no restored backup)")
	}
	roles := 0
	for _, r := range m.OfType(role) {
		if r.KubeName() != backup.Restore {
			continue
		}
		roles++
		rules := r.Array("rules")
		rule := testkit.Resource{Inputs: rules[0].ObjectValue()}
		if res := rule.Array("resources"); len(rules) != 1 || len(res) != 1 || res[0].StringValue() != "deployments" {
			t.Errorf("restore Role in %s: %v; want deployments only", r.String("metadata.namespace"), rules)
		}
		for _, v := range rule.Array("verbs") {
			if !slices.Contains([]string{"get", "list", "patch"}, v.StringValue()) {
				t.Errorf("restore Role may %s", v.StringValue())
			}
		}
	}
	if roles != 2 {
		t.Errorf("%d restore Roles; want one in the core and one in the plugin namespace", roles)
	}
	for _, d := range m.OfType(deployment) {
		if d.KubeName() != "inventory-scheduler" && d.KubeName() != "supervisor" {
			continue
		}
		if got := d.Object("spec.template.metadata.annotations")[apikey.RotationAnnotation].StringValue(); !strings.Contains(got, name) {
			t.Errorf("%s: key annotation %q does not change with the restore", d.KubeName(), got)
		}
	}
}

// envNames are the names of the environment variables of the first container of the pod
// spec at path.
func envNames(r *testkit.Resource, path string) []string {
	cs := r.Array(path + ".containers")
	if len(cs) == 0 {
		return nil
	}
	var out []string
	for _, e := range (testkit.Resource{Inputs: cs[0].ObjectValue()}).Array("env") {
		out = append(out, testkit.Resource{Inputs: e.ObjectValue()}.String("name"))
	}
	return out
}

// The data Jobs (database users, backup, restore) run in the image of the catalogue's
// dataJobs service, whose python-core base ships pymongo: spacectl 1.10.4.2's image has none.
func TestDataJobsRunInTheDataJobsServiceImage(t *testing.T) {
	forEachRelease(t, func(t *testing.T, rel *catalog.Release, cfg testkit.Config) {
		cfg["restore"] = "spaceone-" + rel.Version + "-20261207-031500"
		m := run(t, cfg)
		image := func(r *testkit.Resource, spec string) string {
			cs := r.Array(spec + ".containers")
			return testkit.Resource{Inputs: cs[0].ObjectValue()}.String("image")
		}
		want := image(m.Find(deployment, rel.DataJobs), "spec.template.spec")
		if want == "" || strings.Contains(want, "spacectl") {
			t.Fatalf("the %s service's image is %q", rel.DataJobs, want)
		}
		for name, got := range map[string]string{
			"db-users":     image(m.Find(job, "db-users"), "spec.template.spec"),
			"backup":       image(m.Find(cronJob, backup.CronJob), "spec.jobTemplate.spec.template.spec"),
			backup.Restore: image(m.Find(job, backup.Restore), "spec.template.spec"),
		} {
			if got != want {
				t.Errorf("%s runs in %q, want %q", name, got, want)
			}
		}
	})
}
