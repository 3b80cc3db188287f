package tests

import (
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// checkServiceEnabledLater: a service the stack ran without (rel.later), enabled on the running
// platform (its MongoDB volume long past its first start), gets its database user from the
// db-users Job: its pods start and it answers an authenticated call that reads its database.
// The mongo image creates users only on an empty volume, and so does the node's stand-in for
// it: without the Job this call fails for want of a login. The same up rotates every service
// user's password (stores.mongodb.rotateUserPasswords): then every service answers again, each
// logged in with its new password (FerretDB's auth checks them).
func checkServiceEnabledLater(t *testing.T, p *project, rn *realNode, rel realRelease, exp expected, token string) {
	off := rel.later
	call := func(svc string) string { return exp.release.Services[svc].AuthenticatedCall }
	mongoPod := func() types.UID { return get(t, api(t).CoreV1().Pods(spaceoneNS).Get, "mongodb-0").UID }
	before := mongoPod()
	var podsBefore []string
	for _, pod := range list(t, api(t).CoreV1().Pods(spaceoneNS).List, "").Items {
		podsBefore = append(podsBefore, pod.Name)
	}
	p.run(t, "config", "set", "--path", "services."+off+".enabled", "true")
	p.run(t, "config", "set", "--path", "stores.mongodb.rotateUserPasswords", "rotated-by-the-real-test")
	if out, err := p.try(t, "up", "--yes", "--skip-preview"); err != nil {
		t.Fatalf("pulumi up enabling %s and rotating the users' passwords: %v\n%s", off, err, tail(out, 40))
	}
	if after := mongoPod(); after != before {
		t.Errorf("enabling %s restarted MongoDB (pod %s, then %s)", off, before, after)
	}
	user := strings.ReplaceAll(off, "-", "_") + "_user"
	var jobLog string
	for name, text := range rn.podLogs(t, spaceoneNS, catalog.DBUsers+"-") {
		jobLog += name + ":\n" + text
	}
	if !strings.Contains(jobLog, user+" created") {
		t.Errorf("no db-users run created %s:\n%s", user, tail(jobLog, 30))
	}
	t.Logf("db-users: %s", strings.Join(grepLines(jobLog, "mongodb users: "+user), " | "))

	ctl := newSpacectl(t, rn, rel.version, clusterEndpoints(t, append(slices.Clone(exp.Services), off)))
	ctl.run(t, "config", "set", "api_key", token)
	deadline := time.Now().Add(90 * time.Second)
	for {
		out := strings.TrimSpace(ctl.run(t, "list", call(off), "-o", "json"))
		if !strings.Contains(out, "ERROR") {
			t.Logf("%s, enabled on the running platform, answers spacectl list %s with its own database user", off, call(off))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, enabled on the running platform, does not answer in 90 s: %s", off, tail(out, 10))
		}
		time.Sleep(3 * time.Second)
	}
	t.Run("RotatedUserPasswordsLogIn", func(t *testing.T) {
		var answered []string
		defer func() {
			t.Logf("with the rotated passwords, in new pods: %s answer", strings.Join(answered, ", "))
		}()
		for _, svc := range exp.Services {
			if svc == off {
				continue
			}
			// its database config changed with the password: its pods from before the up go
			for _, pod := range podsBefore {
				if !strings.HasPrefix(pod, svc+"-") || strings.HasPrefix(pod, svc+"-scheduler") || strings.HasPrefix(pod, svc+"-worker") {
					continue
				}
				for gone := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Second) {
					if !exists(t, api(t).CoreV1().Pods(spaceoneNS).Get, pod) {
						break
					}
					if time.Now().After(gone) {
						t.Errorf("%s's pod %s still runs a minute after the up: its new password did not reach it", svc, pod)
						break
					}
				}
			}
			out := strings.TrimSpace(ctl.run(t, "list", call(svc), "-o", "json"))
			if strings.Contains(out, "ERROR") {
				t.Errorf("%s does not answer after its user's password was rotated: %s", svc, tail(out, 10))
			} else {
				answered = append(answered, svc)
			}
		}
	})
	// Switched off again, the platform is as the test expects it for what follows; its user
	// (and data) stay.
	p.run(t, "config", "set", "--path", "services."+off+".enabled", "false")
	p.run(t, "up", "--yes", "--skip-preview")
}
