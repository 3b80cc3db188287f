package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// backupManifest is what the test reads of a backup's manifest.json.
type backupManifest struct {
	Name, Release, Reason string
	Bytes                 int64
	MongoDB               map[string]struct {
		Collections map[string]struct {
			Documents int
			Bytes     int64
			SHA256    string `json:"sha256"`
		}
	} `json:"mongodb"`
	Consul *struct {
		Keys   int
		Bytes  int64
		SHA256 string `json:"sha256"`
	}
}

// platformData is what the backup test creates through SpaceONE's APIs and finds again.
type platformData struct {
	group, project, user, account, secret, region string
	secretData                                    map[string]any
}

// createPlatformData makes, through SpaceONE's APIs: a project group and a project, a user, a
// provider with a service account and its secret (cloud credentials), and a region.
func createPlatformData(t *testing.T, ctl *spacectlEnv, domainID string) platformData {
	t.Helper()
	var d platformData
	var id struct {
		Group   string `json:"project_group_id"`
		Project string `json:"project_id"`
		User    string `json:"user_id"`
		Account string `json:"service_account_id"`
		Secret  string `json:"secret_id"`
		Region  string `json:"region_id"`
	}
	spacectlJSON(t, ctl, &id, "exec", "create", "identity.ProjectGroup", "-j", jsonArg(map[string]any{"name": "backup-group", "domain_id": domainID}))
	d.group = id.Group
	spacectlJSON(t, ctl, &id, "exec", "create", "identity.Project", "-j", jsonArg(map[string]any{"name": "backup-project", "project_group_id": d.group, "domain_id": domainID}))
	d.project = id.Project
	spacectlJSON(t, ctl, &id, "exec", "create", "identity.User", "-j", jsonArg(map[string]any{"user_id": "backup-user@example.com", "password": "Backup-Us3r!pw", "name": "Backup User", "domain_id": domainID}))
	d.user = id.User
	ctl.run(t, "exec", "create", "identity.Provider", "-j", jsonArg(map[string]any{"provider": "backupcloud", "name": "BackupCloud", "domain_id": domainID}))
	spacectlJSON(t, ctl, &id, "exec", "create", "identity.ServiceAccount", "-j", jsonArg(map[string]any{"name": "backup account", "provider": "backupcloud",
		"data": map[string]any{}, "service_account_type": "GENERAL", "project_id": d.project, "domain_id": domainID}))
	d.account = id.Account
	d.secretData = map[string]any{"account_id": "backup-42", "access_key": randomHex(t, 20)}
	spacectlJSON(t, ctl, &id, "exec", "create", "secret.Secret", "-j", jsonArg(map[string]any{"name": "backup credentials", "secret_type": "CREDENTIALS",
		"service_account_id": d.account, "data": d.secretData, "domain_id": domainID}))
	d.secret = id.Secret
	spacectlJSON(t, ctl, &id, "exec", "create", "inventory.Region", "-j", jsonArg(map[string]any{"name": "Backup Region", "region_code": "backup-1", "provider": "backupcloud", "domain_id": domainID}))
	d.region = id.Region
	if d.group == "" || d.project == "" || d.user == "" || d.account == "" || d.secret == "" || d.region == "" {
		t.Fatalf("creating the data: an id is missing: %+v", d)
	}
	return d
}

// check finds every object again, each by its id, and the secret's data byte-equal.
func (d platformData) check(t *testing.T, ctl *spacectlEnv, domainID string) {
	t.Helper()
	for _, get := range [][2]string{
		{"identity.ProjectGroup", "project_group_id=" + d.group}, {"identity.Project", "project_id=" + d.project},
		{"identity.User", "user_id=" + d.user}, {"identity.ServiceAccount", "service_account_id=" + d.account},
		{"secret.Secret", "secret_id=" + d.secret}, {"inventory.Region", "region_id=" + d.region},
	} {
		out := ctl.run(t, "exec", "get", get[0], "-p", get[1], "-p", "domain_id="+domainID, "-o", "json")
		if strings.Contains(out, "ERROR") || !strings.Contains(out, strings.SplitN(get[1], "=", 2)[1]) {
			t.Errorf("%s %s is not there after the restore:\n%s", get[0], get[1], tail(out, 5))
		}
	}
	var data struct {
		Data map[string]any `json:"data"`
	}
	spacectlJSON(t, ctl, &data, "exec", "get_data", "secret.Secret", "-p", "secret_id="+d.secret, "-p", "domain_id="+domainID)
	want, _ := json.Marshal(d.secretData)
	if got, _ := json.Marshal(data.Data); string(got) != string(want) {
		t.Errorf("secret %s reads back %d bytes of data, not the %d stored", d.secret, len(got), len(want))
	}
}

// checkOn finds the data on a platform that came back (restored, or moved to another
// release) with the same root domain: the admin logs in with password, the token consumers
// hold the key handed over, and every object reads back (check) with the API user's key.
// It returns a spacectl for the platform's Services (new addresses) and the admin's token;
// the API key is the one configured.
func (d platformData) checkOn(t *testing.T, rn *realNode, rel realRelease, exp expected, domainID, password, after string) (*spacectlEnv, string) {
	t.Helper()
	ctl := newSpacectl(t, rn, rel.version, clusterEndpoints(t, exp.Services))
	if got := rootDomainID(t, ctl); got != domainID {
		t.Fatalf("the root domain is %s after %s, not %s", got, after, domainID)
	}
	token := login(t, ctl, domainID, password)
	key := rel.handedKey(t)
	rel.checkConsumers(t, rn, exp, key)
	ctl.run(t, "config", "set", "api_key", key)
	d.check(t, ctl, domainID)
	return ctl, token
}

// backupDir is where the backup volume lives on the real node (its PersistentVolume's hostPath).
func backupDir(t *testing.T) string {
	t.Helper()
	pv := get(t, api(t).CoreV1().PersistentVolumeClaims(spaceoneNS).Get, backup.Claim).Spec.VolumeName
	if pv == "" {
		t.Fatalf("the backup volume claim %s is not bound", backup.Claim)
	}
	path := get(t, api(t).CoreV1().PersistentVolumes().Get, pv).Spec.HostPath
	if path == nil {
		t.Fatalf("the backup volume %s has no hostPath", pv)
	}
	return path.Path
}

// checkManifest reads a backup's manifest and checks it against what should be: the
// release, every database of an enabled service, Consul's keys when the release keeps the
// secret payloads there, and each file's size and checksum.
func checkManifest(t *testing.T, dir, name string, rel realRelease, exp expected) backupManifest {
	t.Helper()
	var m backupManifest
	b, err := os.ReadFile(filepath.Join(dir, name, "manifest.json"))
	must(t, err)
	must(t, json.Unmarshal(b, &m))
	if m.Name != name || m.Release != rel.version {
		t.Errorf("manifest of %s names %q, release %q; want %q, %q", name, m.Name, m.Release, name, rel.version)
	}
	for _, svc := range exp.Services {
		for _, db := range exp.release.Services[svc].Databases() {
			if _, ok := m.MongoDB[db]; !ok {
				t.Errorf("the backup lacks database %s (service %s)", db, svc)
			}
		}
	}
	if rel.consul != (m.Consul != nil) {
		t.Errorf("the backup holds Consul's keys: %v; the release keeps secret payloads in Consul: %v", m.Consul != nil, rel.consul)
	}
	files := 0
	for db, d := range m.MongoDB {
		for coll, c := range d.Collections {
			f, err := os.ReadFile(filepath.Join(dir, name, "mongodb", db, coll+".bson"))
			must(t, err)
			if sum := sha256.Sum256(f); hex.EncodeToString(sum[:]) != c.SHA256 || int64(len(f)) != c.Bytes {
				t.Errorf("%s.%s: the file does not match the manifest", db, coll)
			}
			files++
		}
	}
	t.Logf("backup %s: %d databases, %d collections, %d bytes in all", name, len(m.MongoDB), files, m.Bytes)
	return m
}

// checkBackupRestore: data through SpaceONE's APIs, a backup (make backup), the platform and
// every volume of its stores destroyed, an up that restores the backup into a new platform.
// Then the old admin password logs in to the same root domain, the data is there, the secret
// data reads back equal, the token consumers hold a working key, a new object can be created,
// and a second up changes nothing (the restore gave every Deployment back its replicas).
func checkBackupRestore(t *testing.T, p *project, rn *realNode, rel realRelease, exp expected, ctl *spacectlEnv, domainID, password string) {
	ctl.run(t, "config", "set", "api_key", rel.handedKey(t)) // the API user: get_data is for the system
	data := createPlatformData(t, ctl, domainID)

	start := time.Now()
	out := p.script(t, "backup.sh", "real")
	took := time.Since(start)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	name := lines[len(lines)-1]
	dir := backupDir(t)
	m := checkManifest(t, dir, name, rel, exp)
	t.Logf("bench: make backup took %s; backup %s holds %d bytes", took.Round(100*time.Millisecond), name, m.Bytes)

	// The platform goes, and its stores' volumes with it (the stack does not keep them: the
	// new platform's stores start empty); the backup volume stays.
	mongoVolume := storeVolume(t, "mongodb")
	p.run(t, "destroy", "--yes", "--skip-preview")
	if _, err := os.Stat(filepath.Join(dir, name, "manifest.json")); err != nil {
		t.Fatalf("destroy took the backup volume with it: %v", err)
	}
	p.run(t, "config", "set", "restore", name)
	start = time.Now()
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up with spaceone:restore %s: %v\n%s", name, err, tail(out, 60))
	}
	t.Logf("bench: up (a new platform, the restore in it) took %s", time.Since(start).Round(time.Second))
	if got := backupDir(t); got != dir {
		t.Errorf("the new platform's backup volume is %s, not the kept %s", got, dir)
	}
	if v := storeVolume(t, "mongodb"); v == mongoVolume {
		t.Errorf("the new platform's MongoDB has the old volume %s: the restore was not what brought the data back", v)
	}
	for _, text := range rn.podLogs(t, spaceoneNS, backup.Restore) {
		for _, l := range grepLines(text, "spaceone backup: ") {
			t.Log(strings.TrimSpace(l))
		}
	}
	ledger, err := os.ReadFile(filepath.Join(dir, "restores.jsonl"))
	must(t, err)
	if !strings.Contains(string(ledger), `"restore": "`+name+`", "step": "finished"`) {
		t.Errorf("the restore ledger does not record %s finished:\n%s", name, ledger)
	}

	ctl, token := data.checkOn(t, rn, rel, exp, domainID, password, "the restore")
	ctl.run(t, "config", "set", "api_key", token)
	var created struct {
		ID string `json:"project_id"`
	}
	spacectlJSON(t, ctl, &created, "exec", "create", "identity.Project", "-j", jsonArg(map[string]any{"name": "after-restore", "project_group_id": data.group, "domain_id": domainID}))
	if created.ID == "" || created.ID == data.project {
		t.Errorf("creating a project after the restore gave id %q", created.ID)
	}
	p.run(t, "up", "--yes", "--skip-preview", "--expect-no-changes")
	if names := backupNames(t, dir); !slices.Contains(names, name) {
		t.Errorf("backup %s is gone from the volume after the restore: %v", name, names)
	}
}

// storeVolume is the PersistentVolume a store's claim is bound to.
func storeVolume(t *testing.T, store string) string {
	t.Helper()
	claim := volumes.StoreClaim(spaceoneNS, store)
	return get(t, api(t).CoreV1().PersistentVolumeClaims(claim.Namespace).Get, claim.Name).Spec.VolumeName
}

func backupNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "spaceone-") {
			names = append(names, e.Name())
		}
	}
	return names
}
