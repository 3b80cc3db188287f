package program

import (
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

// The bad-input corpus: each configuration is refused before any resource is registered, with
// a message that names the setting and says what is accepted.
func TestBadInputCorpus(t *testing.T) {
	svc := func(name string, o map[string]any) map[string]any {
		return map[string]any{"services": map[string]any{name: o}}
	}
	// plugins is spaceone:plugins with one good entry per argument, changed by it.
	plugins := func(changes ...map[string]any) map[string]any {
		var list []any
		for _, c := range changes {
			p := map[string]any{"name": "aws-ec2", "image": "spaceone/plugin-aws-ec2-inven-collector", "version": "1.10.4", "serviceType": "inventory.Collector"}
			for k, v := range c {
				p[k] = v
			}
			list = append(list, p)
		}
		return map[string]any{"plugins": list}
	}
	cases := []struct {
		name    string
		cfg     map[string]any
		secrets []string
		key     string // the setting the message must name
		hint    string // what the message must say is accepted
	}{
		{"unknown cluster type", map[string]any{"clusterType": "gke"}, nil, "spaceone:clusterType", `"local"`},
		{"unknown service", svc("nosuch", map[string]any{"tag": "1.10.4"}), nil, "spaceone:services.nosuch", "is not a service of this release; known services: "},
		{"latest tag", svc("identity", map[string]any{"tag": "latest"}), nil, "spaceone:services.identity.tag", "MAJOR.MINOR.SPRINT"},
		{"malformed tag", svc("identity", map[string]any{"tag": "v1.10"}), nil, "spaceone:services.identity.tag", "1.10.4"},
		{"tag in image", svc("identity", map[string]any{"image": "me/identity:dev"}), nil, "spaceone:services.identity.image", "without tag"},
		{"negative replicas", svc("identity", map[string]any{"replicas": map[string]any{"grpc": -1}}), nil, "spaceone:services.identity.replicas.grpc", "0 to 50"},
		{"unknown variant", svc("identity", map[string]any{"variants": []string{"grpc", "cron"}}), nil, "spaceone:services.identity.variants[1]", "grpc, scheduler, worker or rest"},
		{"variant the service lacks", svc("identity", map[string]any{"variants": []string{"grpc", "worker"}}), nil, "spaceone:services.identity.variants[1]", "it has [grpc]"},
		{"callee switched off", svc("identity", map[string]any{"enabled": false}), nil, "spaceone:services.identity.enabled", "enable it"},
		{"bad quantity", svc("identity", map[string]any{"resources": map[string]any{"memoryLimit": "1 GB"}}), nil, "spaceone:services.identity.resources.memoryLimit", "256Mi"},
		{"misspelt field", svc("identity", map[string]any{"tga": "1.10.4"}), nil, "spaceone:services", `has no key "tga" (did you mean "tag"?)`},
		{"a word where a number goes", svc("identity", map[string]any{"replicas": map[string]any{"grpc": "two"}}), nil, "spaceone:services", "replicas got a string, wants a number"},
		{"bad pull policy", map[string]any{"images": map[string]any{"pullPolicy": "Sometimes"}}, nil, "spaceone:images.pullPolicy", "IfNotPresent, Always or Never"},
		{"registry with scheme", map[string]any{"images": map[string]any{"registry": "https://reg.local/x"}}, nil, "spaceone:images.registry", "no scheme"},
		{"bad namespace", map[string]any{"namespace": "SpaceONE"}, nil, "spaceone:namespace", "lower-case"},
		{"same namespaces", map[string]any{"namespace": "x", "pluginNamespace": "x"}, nil, "spaceone:pluginNamespace", "must differ"},
		{"bad volume size", map[string]any{"stores": map[string]any{"mongodb": map[string]any{"size": "lots"}}}, nil, "spaceone:stores.mongodb.size", "8Gi"},
		{"malformed external address", map[string]any{"stores": map[string]any{"redis": map[string]any{"external": map[string]any{"host": "redis:6379"}}}}, nil, "spaceone:stores.redis.external.host", "host name or IPv4"},
		{"external port out of range", map[string]any{"stores": map[string]any{"redis": map[string]any{"external": map[string]any{"host": "r.example.com", "port": 70000}}}}, nil, "spaceone:stores.redis.external.port", "1-65535"},
		{"external mongo without password", map[string]any{"stores": map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "m.example.com", "username": "u"}}}}, nil, "spaceone:mongodbPassword", "--secret"},
		{"credential seed in plain text", map[string]any{"credentialSeed": "0123456789abcdefghij"}, nil, "spaceone:credentialSeed", "pulumi config set --secret"},
		{"credential seed too short", map[string]any{"credentialSeed": "short"}, []string{"credentialSeed"}, "spaceone:credentialSeed", "at least 16"},
		{"password in plain text", map[string]any{"mongodbPassword": "hunter2", "stores": map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "m.example.com", "username": "u"}}}}, nil, "spaceone:mongodbPassword", "pulumi config set --secret"},
		{"admin password in plain text", map[string]any{"adminPassword": "Secret-Passw0rd"}, nil, "spaceone:adminPassword", "--secret"},
		{"weak admin password", map[string]any{"adminPassword": "password"}, []string{"adminPassword"}, "spaceone:adminPassword", "upper- and lower-case"},
		{"bad expose", map[string]any{"console": map[string]any{"expose": "loadBalancer"}}, nil, "spaceone:console.expose", "portForward, nodePort or ingress"},
		{"unknown ingress class", map[string]any{"console": map[string]any{"expose": "ingress", "host": "c.example.com", "apiHost": "a.example.com", "ingressClass": "Traefik!"}}, nil, "spaceone:console.ingressClass", "nginx, alb"},
		{"nodePort out of range", map[string]any{"console": map[string]any{"expose": "nodePort", "nodePort": 8080}}, nil, "spaceone:console.nodePort", "30000-32767"},
		{"ingress without host", map[string]any{"console": map[string]any{"expose": "ingress", "apiHost": "api.example.com"}}, nil, "spaceone:console.host", "required when console.expose is ingress"},
		{"bad certificate", map[string]any{"console": map[string]any{"expose": "ingress", "host": "c.example.com", "apiHost": "a.example.com", "certificateArn": "my-cert"}}, nil, "spaceone:console.certificateArn", "arn:aws:acm"},
		{"bad domain", map[string]any{"domain": "My Domain"}, nil, "spaceone:domain", "domain name"},
		{"initializer timeout", map[string]any{"initializer": map[string]any{"timeoutMinutes": 0}}, nil, "spaceone:initializer.timeoutMinutes", "1 to 240"},
		{"unknown local service", map[string]any{"release": "1.10.4", "localServices": map[string]any{"nosuch": "10.0.0.1:50051"}}, nil, "spaceone:localServices.nosuch", "mongodb, redis, consul"},
		{"local port out of range", map[string]any{"localServices": map[string]any{"identity": "10.0.0.1:0"}}, nil, "spaceone:localServices.identity", "1-65535"},
		{"local address without port", map[string]any{"localServices": map[string]any{"identity": "10.0.0.1"}}, nil, "spaceone:localServices.identity", "<address>:<port>"},
		{"bad dev expose", map[string]any{"dev": map[string]any{"expose": "vpn"}}, nil, "spaceone:dev.expose", "portForward"},
		{"unknown release", map[string]any{"release": "1.12.0"}, nil, "spaceone:release", "known: 1.10.4"},
		{"eks without region", map[string]any{"clusterType": "eks"}, nil, "spaceone:eks.region", "us-east-1"},
		// Round two (issue #14): wrongly accepted before.
		{"default namespace", map[string]any{"namespace": "default"}, nil, "spaceone:namespace", "system namespace"},
		{"kube-system as plugin namespace", map[string]any{"pluginNamespace": "kube-system"}, nil, "spaceone:pluginNamespace", "system namespace"},
		{"memory limit below request", svc("identity", map[string]any{"resources": map[string]any{"memoryRequest": "1Gi", "memoryLimit": "512Mi"}}), nil, "spaceone:services.identity.resources.memoryLimit", "below the request"},
		{"cpu limit below the release's request", svc("identity", map[string]any{"resources": map[string]any{"cpuLimit": "10m"}}), nil, "spaceone:services.identity.resources.cpuLimit", "below the request 50m"},
		{"memory in millibytes", svc("identity", map[string]any{"resources": map[string]any{"memoryLimit": "512m"}}), nil, "spaceone:services.identity.resources.memoryLimit", "fraction of a byte"},
		{"memory below the floor", svc("identity", map[string]any{"resources": map[string]any{"memoryRequest": "16Mi"}}), nil, "spaceone:services.identity.resources.memoryRequest", "cannot start"},
		{"console node port on a dev port", map[string]any{"console": map[string]any{"expose": "nodePort", "nodePort": 30151}, "dev": map[string]any{"expose": "nodePort"}}, nil, "spaceone:console.nodePort", "identity's dev port"},
		{"misspelt top-level key", map[string]any{"namespce": "spaceone"}, nil, "spaceone:namespce", `did you mean "namespace"?`},
		{"callee at 0 replicas", svc("identity", map[string]any{"replicas": map[string]any{"grpc": 0}}), nil, "spaceone:services.identity.replicas.grpc", "serve it from your laptop"},
		{"store size zero", map[string]any{"stores": map[string]any{"redis": map[string]any{"size": "0"}}}, nil, "spaceone:stores.redis.size", "more than 0"},
		{"eks min above max", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1", "nodes": map[string]any{"min": 5, "max": 3}}}, nil, "spaceone:eks.nodes.min", "min <= desired <= max"},
		{"eks instance type", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1", "nodes": map[string]any{"instanceTypes": []string{"big"}}}}, nil, "spaceone:eks.nodes.instanceTypes[0]", "t3.large"},
		{"consul on a release without it", map[string]any{"release": "1.12.12", "stores": map[string]any{"consul": map[string]any{"size": "2Gi"}}}, nil, "spaceone:stores.consul", "runs no consul"},
		{"consul routed to a laptop on a release without it", map[string]any{"release": "1.12.12", "localServices": map[string]any{"consul": "192.168.49.1:8500"}}, nil, "spaceone:localServices.consul", "nor one of its stores"},
		{"password rotation of redis", map[string]any{"stores": map[string]any{"redis": map[string]any{"size": "1Gi", "rotateUserPasswords": "2026-12"}}}, nil, "spaceone:stores.redis.rotateUserPasswords", "only MongoDB's service users"},
		{"password rotation of an external MongoDB", map[string]any{"mongodbPassword": "s3cret-given-as-secret",
			"stores": map[string]any{"mongodb": map[string]any{"rotateUserPasswords": "2026-12", "external": map[string]any{"host": "mongo.example.com", "port": 27017, "username": "spaceone"}}}},
			[]string{"mongodbPassword"}, "spaceone:stores.mongodb.rotateUserPasswords", "change its users' passwords there"},
		{"backup schedule not cron", map[string]any{"backup": map[string]any{"schedule": "every night"}}, nil, "spaceone:backup.schedule", `"0 3 * * *"`},
		{"backup keep 0", map[string]any{"backup": map[string]any{"keep": 0}}, nil, "spaceone:backup.keep", "keep 1 to 1000"},
		{"backup size not a size", map[string]any{"backup": map[string]any{"size": "ten gigs"}}, nil, "spaceone:backup.size", "like 10Gi"},
		{"backup to a volume and a bucket at once", map[string]any{"backup": map[string]any{"size": "10Gi", "s3": map[string]any{"bucket": "acme-spaceone-backups"}}}, nil, "spaceone:backup", "backups go to one place"},
		{"backup to S3 on a local cluster", map[string]any{"backup": map[string]any{"s3": map[string]any{}}}, nil, "spaceone:backup.s3", "S3 backups need an eks stack"},
		{"backup volume on eks", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1"}, "backup": map[string]any{"size": "20Gi"}}, nil, "spaceone:backup.size", "an eks stack keeps its backups in S3"},
		{"backup bucket not a bucket name", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1"}, "backup": map[string]any{"s3": map[string]any{"bucket": "Acme_Backups"}}}, nil, "spaceone:backup.s3.bucket", "lowercase letters, digits and hyphens"},
		{"backup old versions kept forever", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1"}, "backup": map[string]any{"s3": map[string]any{"versionDays": -1}}}, nil, "spaceone:backup.s3.versionDays", "1 to 3650 days"},
		{"backup of an external MongoDB", map[string]any{"backup": map[string]any{"keep": 3}, "mongodbPassword": "s3cret-given-as-secret",
			"stores": map[string]any{"mongodb": map[string]any{"external": map[string]any{"host": "mongo.example.com", "port": 27017, "username": "spaceone"}}}},
			[]string{"mongodbPassword"}, "spaceone:backup", "back it up with its own tools"},
		{"restore not a backup name", map[string]any{"restore": "yesterday"}, nil, "spaceone:restore", "spaceone-<release>-<YYYYMMDD-HHMMSS>"},
		{"restore of another release", map[string]any{"release": "1.10.4", "restore": "spaceone-1.12.12-20261207-031500"}, nil, "spaceone:restore", "restore it into a 1.12.12 stack"},
		{"insecure registry not a boolean", map[string]any{"images": map[string]any{"insecureRegistry": "sometimes"}}, nil, "spaceone:images", "insecureRegistry got a string, wants true or false"},
		{"plugin version unpinned", plugins(map[string]any{"version": "latest"}), nil, "spaceone:plugins[0].version", "pin a version"},
		{"plugin of an unknown kind", plugins(map[string]any{"serviceType": "inventory.Crawler"}), nil, "spaceone:plugins[0].serviceType", "inventory.Collector, monitoring.DataSource"},
		{"plugin image with its tag", plugins(map[string]any{"image": "spaceone/plugin-x:1.10.4"}), nil, "spaceone:plugins[0].image", "set the tag in plugins[0].version"},
		{"plugin image not a reference", plugins(map[string]any{"image": "Not An Image"}), nil, "spaceone:plugins[0].image", "is not an image reference"},
		{"plugin registered twice", plugins(map[string]any{}, map[string]any{}), nil, "spaceone:plugins[1].name", "also the name of plugins[0]"},
		{"plugin from a private registry on 1.10.4", withKeys(plugins(map[string]any{"image": "registry.local:5000/team/plugin-x"}), "release", "1.10.4"), nil, "spaceone:plugins[0].image", "release 1.12.12"},
		{"eks one zone", map[string]any{"clusterType": "eks", "eks": map[string]any{"region": "us-east-1", "availabilityZones": []string{"us-east-1a"}}}, nil, "spaceone:eks.availabilityZones", "give 2 or 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testkit.Config{}
			for k, v := range c.cfg {
				cfg[k] = v
			}
			m := eksMocks()
			err := testkit.RunWith(m, Run, cfg, c.secrets...)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.key+":") {
				t.Errorf("message does not name %s:\n%s", c.key, msg)
			}
			if !strings.Contains(msg, c.hint) {
				t.Errorf("message does not say %q:\n%s", c.hint, msg)
			}
			for _, r := range m.Resources {
				if r.Type != "pulumi:pulumi:Stack" {
					t.Errorf("registered %s %s before refusing", r.Type, r.Name)
				}
			}
		})
	}
	if len(cases) < 25 {
		t.Errorf("corpus has %d cases, want at least 25", len(cases))
	}
}

// A user fixes every mistake in one round: the settings' own problems and those only the
// catalogue can judge come in one message.
func TestAllProblemsInOneRound(t *testing.T) {
	cfg := simConfig()
	cfg["namespace"] = "default"
	cfg["services"] = map[string]any{
		"identity": map[string]any{"enabled": false},
		"board":    map[string]any{"resources": map[string]any{"memoryRequest": "1Gi", "memoryLimit": "512Mi"}},
	}
	_, err := testkit.Run(Run, cfg)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"spaceone:namespace:", "spaceone:services.identity.enabled:", "spaceone:services.board.resources.memoryLimit:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the message lacks %s:\n%v", key, err)
		}
	}
}
