package program

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

const (
	bucketV2       = "aws:s3/bucketV2:BucketV2"
	iamRoleType    = "aws:iam/role:Role"
	iamPolicyType  = "aws:iam/policy:Policy"
	serviceAccount = "kubernetes:core/v1:ServiceAccount"
	madeBucket     = "spaceone-backups-20261207000000000001" // eksMocks' name for the bucket
)

// policyDoc is an IAM policy document as the program wrote it.
type policyDoc struct {
	Statement []struct {
		Effect    string
		Principal any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func parsePolicy(t *testing.T, what, doc string) policyDoc {
	t.Helper()
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) == 0 {
		t.Fatalf("%s is not a policy document (%v): %s", what, err, doc)
	}
	return p
}

// backupRole is the role the backup Jobs assume, and its policy.
func backupRole(t *testing.T, m *testkit.Mocks) (role, policy *testkit.Resource) {
	t.Helper()
	role, policy = m.Find(iamRoleType, "eks-backups"), m.Find(iamPolicyType, "eks-backups")
	if role == nil || policy == nil {
		t.Fatalf("no role and policy eks-backups for the backup Jobs")
	}
	return role, policy
}

// The bucket's access is exactly: list the bucket, read, write and delete its objects.
func checkBucketAccess(t *testing.T, policy *testkit.Resource, bucket string) {
	t.Helper()
	p := parsePolicy(t, "the backup role's policy", policy.String("policy"))
	var resources []string
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %+v: want Allow only", st)
		}
		b, _ := json.Marshal(st.Resource)
		resources = append(resources, string(b))
		a, _ := json.Marshal(st.Action)
		if strings.Contains(string(a), "*") {
			t.Errorf("the backup role may %s: want named S3 actions only", a)
		}
	}
	want := []string{`["arn:aws:s3:::` + bucket + `"]`, `["arn:aws:s3:::` + bucket + `/*"]`}
	if !slices.Equal(resources, want) {
		t.Errorf("the backup role reaches %v; want %v", resources, want)
	}
}

// An eks stack keeps its backups in a bucket of its own: private, encrypted, versioned, its
// old versions expiring, TLS only, and kept when the stack is destroyed. The backup, restore
// and upgrade Jobs reach it through a role only their service accounts may assume (IRSA); no
// pod holds an AWS key, and no backup volume is made.
func TestEKSBackupsGoToAPrivateEncryptedVersionedBucketThroughIRSA(t *testing.T) {
	m := runEKS(t, eksConfig())
	buckets := m.OfType(bucketV2)
	if len(buckets) != 1 {
		t.Fatalf("%d buckets, want the backups' one", len(buckets))
	}
	settingsOf := map[string]func(testkit.Resource) bool{
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": func(r testkit.Resource) bool {
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if v := r.Get(k); !v.IsBool() || !v.BoolValue() {
					return false
				}
			}
			return true
		},
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": func(r testkit.Resource) bool {
			rules := r.Array("rules")
			return len(rules) == 1 && testkit.Resource{Inputs: rules[0].ObjectValue()}.String("applyServerSideEncryptionByDefault.sseAlgorithm") == "AES256"
		},
		"aws:s3/bucketVersioningV2:BucketVersioningV2": func(r testkit.Resource) bool {
			return r.String("versioningConfiguration.status") == "Enabled"
		},
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": func(r testkit.Resource) bool {
			rules := r.Array("rules")
			if len(rules) != 1 {
				return false
			}
			rule := testkit.Resource{Inputs: rules[0].ObjectValue()}
			return rule.String("status") == "Enabled" && rule.Get("noncurrentVersionExpiration.noncurrentDays").NumberValue() == 30
		},
		"aws:s3/bucketPolicy:BucketPolicy": func(r testkit.Resource) bool {
			p := parsePolicy(t, "the bucket policy", r.String("policy"))
			st := p.Statement[0]
			return len(p.Statement) == 1 && st.Effect == "Deny" && st.Principal == "*" && st.Condition["Bool"]["aws:SecureTransport"] == "false"
		},
	}
	for _, r := range m.Resources {
		check, setting := settingsOf[r.Type]
		if r.Type != bucketV2 && !setting {
			continue
		}
		if !r.Options.RegisterRPC.GetRetainOnDelete() {
			t.Errorf("%s %s is deleted with the stack; the backups and their bucket's settings must outlive destroy", r.Type, r.Name)
		}
		if setting {
			if !check(r) {
				t.Errorf("%s is not as it should be: %v", r.Type, r.Inputs)
			}
			delete(settingsOf, r.Type)
		}
	}
	for typ := range settingsOf {
		t.Errorf("the backup bucket has no %s", typ)
	}

	role, policy := backupRole(t, m)
	checkBucketAccess(t, policy, madeBucket)
	trust := parsePolicy(t, "the backup role's trust", role.String("assumeRolePolicy"))
	var subjects []string
	for k, v := range trust.Statement[0].Condition["StringEquals"] {
		if strings.HasSuffix(k, ":sub") {
			for _, s := range v.([]any) {
				subjects = append(subjects, s.(string))
			}
		}
	}
	var want []string
	for _, sa := range backup.ServiceAccounts() {
		want = append(want, "system:serviceaccount:spaceone:"+sa)
	}
	if !slices.Equal(subjects, want) {
		t.Errorf("the backup role may be assumed by %v; want exactly %v", subjects, want)
	}
	for _, sa := range []string{backup.CronJob} { // restore and upgrade accounts exist only with their Jobs
		r := m.Find(serviceAccount, sa)
		if r == nil || r.Object("metadata.annotations")["eks.amazonaws.com/role-arn"].StringValue() != "arn:aws:iam::123456789012:role/eks-backups" {
			t.Errorf("ServiceAccount %s does not name the backup role: %v", sa, r)
		}
	}

	cj := m.Find(cronJob, backup.CronJob)
	if cj == nil {
		t.Fatal("no backup CronJob")
	}
	spec := cj.Object("spec.jobTemplate.spec.template.spec")
	pod := testkit.Resource{Inputs: spec}
	if pod.String("serviceAccountName") != backup.CronJob {
		t.Errorf("the backup Job runs as %q, want %s", pod.String("serviceAccountName"), backup.CronJob)
	}
	for _, v := range pod.Array("volumes") {
		vol := testkit.Resource{Inputs: v.ObjectValue()}
		if vol.String("name") == "backups" && !vol.Get("emptyDir").IsObject() {
			t.Errorf("the backup Job's work space is %v; want an emptyDir (the backups are in the bucket)", vol.Inputs)
		}
	}
	env := envValues(cj, "spec.jobTemplate.spec.template.spec")
	if env["BACKUP_BUCKET"] != madeBucket || env["AWS_DEFAULT_REGION"] != "us-east-1" {
		t.Errorf("the backup Job's bucket and region: %q, %q", env["BACKUP_BUCKET"], env["AWS_DEFAULT_REGION"])
	}
	if m.Find(pvc, backup.Claim) != nil {
		t.Error("an eks stack got a backup volume")
	}
	for _, r := range m.Resources {
		b, _ := json.Marshal(r.Inputs.Mappable())
		for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"} {
			if strings.Contains(string(b), key) {
				t.Errorf("%s %s holds %s: backups reach S3 through IRSA only", r.Type, r.Name, key)
			}
		}
	}
}

// With backup.s3.bucket the stack makes no bucket: the role reaches the one named (e.g. the
// bucket an earlier, destroyed stack kept, to restore its backups).
func TestEKSBackupsToAnExistingBucket(t *testing.T) {
	cfg := eksConfig()
	cfg["backup"] = map[string]any{"keep": 7, "s3": map[string]any{"bucket": "acme-spaceone-backups"}}
	m := runEKS(t, cfg)
	if n := len(m.OfType(bucketV2)); n != 0 {
		t.Errorf("%d buckets made; want none (backup.s3.bucket names one)", n)
	}
	_, policy := backupRole(t, m)
	checkBucketAccess(t, policy, "acme-spaceone-backups")
	if env := envValues(m.Find(cronJob, backup.CronJob), "spec.jobTemplate.spec.template.spec"); env["BACKUP_BUCKET"] != "acme-spaceone-backups" {
		t.Errorf("the backup Job writes to %q", env["BACKUP_BUCKET"])
	}
}

// envValues are the plain values of the first container's environment.
func envValues(r *testkit.Resource, path string) map[string]string {
	out := map[string]string{}
	cs := r.Array(path + ".containers")
	if len(cs) == 0 {
		return out
	}
	for _, e := range (testkit.Resource{Inputs: cs[0].ObjectValue()}).Array("env") {
		v := testkit.Resource{Inputs: e.ObjectValue()}
		out[v.String("name")] = v.String("value")
	}
	return out
}
