// Loading: the stack configuration decoded strictly, key by key, into Settings, with every
// problem collected so a user fixes them all in one round.

package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// Source is where configuration values come from: *pulumi.Context in a program, a map in tests.
type Source interface {
	GetConfig(key string) (string, bool)
	IsConfigSecret(key string) bool
}

// Problem is one invalid setting.
type Problem struct {
	Key     string // full key, e.g. spaceone:services.identity.tag
	Message string // what is wrong and what is accepted
}

// Problems is every invalid setting found, so a user fixes them all in one round.
type Problems []Problem

func (p Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid stack configuration (%d problem(s)); nothing was created:", len(p))
	for _, x := range p {
		fmt.Fprintf(&b, "\n  - %s: %s", x.Key, x.Message)
	}
	return b.String()
}

type loader struct {
	src      Source
	problems Problems
}

func (l *loader) fail(key, format string, args ...any) {
	l.problems = append(l.problems, Problem{Key: Project + ":" + key, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) str(key, def string) string {
	if v, ok := l.src.GetConfig(Project + ":" + key); ok {
		return v
	}
	return def
}

func (l *loader) object(key string, into any) {
	raw, ok := l.src.GetConfig(Project + ":" + key)
	if !ok || raw == "" {
		return
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		l.decodeProblem(key, into, err)
	}
}

// decodeProblem says what the decoder found wrong in the user's terms: which setting, what
// it got, what it wants; for an unknown key, the nearest known one.
func (l *loader) decodeProblem(key string, into any, err error) {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		// Field is the path of struct fields (map keys such as a service's name are not in it).
		what := "it"
		if typeErr.Field != "" {
			what = typeErr.Field
		}
		l.fail(key, "%s got a %s, wants %s; see its description in Pulumi.yaml", what, typeErr.Value, jsonKind(typeErr.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		l.fail(key, "has no key %q%s; see its description in Pulumi.yaml", field, suggest(field, jsonKeys(reflect.TypeOf(into))))
	default:
		l.fail(key, "is not a JSON object as its description in Pulumi.yaml shows (%s)", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonKind names a Go type the way a YAML or JSON user thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// jsonKeys is every key name the decoder accepts anywhere under t (for suggestions).
func jsonKeys(t reflect.Type) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				out = append(out, name)
			}
			walk(f.Type)
		}
	}
	walk(t)
	return out
}

// DefaultRelease is the release a stack deploys unless spaceone:release says otherwise.
const DefaultRelease = "1.12.12"

// ReleaseOf is the release the stack deploys: spaceone:release, or DefaultRelease. The program
// reads it before Load, which needs that release's catalogue to check the rest.
func ReleaseOf(src Source) string {
	return (&loader{src: src}).str("release", DefaultRelease)
}

// Known lists the catalogue's service names; Load refuses overrides for any other name.
type Known interface {
	HasService(name string) bool
	ServiceNames() []string
	StoreNames() []string         // the stores the release runs on
	PluginServiceTypes() []string // the plugin kinds its services call (inventory.Collector, ...)
	PluginRegistries() []string   // the registry types its repository reads (RegistryDockerHub, ...)
}

// releaseStores is the stores of the release; every store when nothing is known.
func releaseStores(known Known) []string {
	if known == nil {
		return catalog.StoreNames
	}
	return known.StoreNames()
}

// Load reads and validates the stack configuration. Defaults mirror Pulumi.yaml's config
// block (unit tests and the Automation API do not apply those).
func Load(src Source, known Known) (*Settings, error) {
	l := &loader{src: src}
	supervisorOn := true
	l.checkTopLevelKeys()
	s := &Settings{
		Cluster:              clusterOf(target.Of(src)),
		Namespace:            l.str("namespace", DefaultNamespace),
		PluginNamespace:      l.str("pluginNamespace", DefaultPluginNamespace),
		Release:              ReleaseOf(src),
		ConfirmReleaseChange: l.str("confirmReleaseChange", ""),
		RenderDir:            l.str("renderDir", ""),
		Domain:               l.str("domain", "root"),
		AdminUser:            l.str("adminUser", "admin"),
		Initializer:          Initializer{TimeoutMinutes: 20},
		Images:               Images{PullPolicy: "IfNotPresent"},
		Stores: Stores{
			MongoDB: Store{Size: "8Gi"},
			Redis:   Store{Size: "1Gi"},
			Consul:  Store{Size: "1Gi"},
		},
		Console:    Console{Expose: "portForward"},
		Supervisor: Supervisor{Enabled: &supervisorOn},
		Backup:     Backup{Keep: DefaultBackupKeep},
	}
	l.object("eks", &s.Cluster.EKS)
	l.object("images", &s.Images)
	l.object("services", &s.Services)
	l.object("stores", &s.Stores)
	s.Stores.inRelease = releaseStores(known)
	l.object("console", &s.Console)
	l.object("initializer", &s.Initializer)
	l.object("dev", &s.Dev)
	s.LocalServices = l.localServices(known)
	s.Dev.withDefaults()
	l.checkDev(&s.Dev)
	l.object("supervisor", &s.Supervisor)
	l.object("plugins", &s.Plugins)
	l.object("backup", &s.Backup)
	// The engine hands the program Pulumi.yaml's default when the stack sets nothing: set is
	// what differs from it.
	backupSet := s.Backup != Backup{Keep: DefaultBackupKeep}
	s.Restore = l.str("restore", "")
	s.AdminPassword, s.HasAdminPassword = l.secret("adminPassword")
	s.MarketplaceToken, s.HasMarketplaceToken = l.secret("marketplaceToken")
	if s.Initializer.TimeoutMinutes < 1 || s.Initializer.TimeoutMinutes > 240 {
		l.fail("initializer.timeoutMinutes", "%d is out of range; use 1 to 240", s.Initializer.TimeoutMinutes)
	}
	if !isDNSLabel(s.AdminUser) {
		l.fail("adminUser", "%q is not a valid user id (lower-case letters, digits and '-')", s.AdminUser)
	}
	if s.HasAdminPassword {
		if pw, _ := l.src.GetConfig(Project + ":adminPassword"); !strongPassword(pw) {
			l.fail("adminPassword", "is too weak for SpaceONE; use at least 8 characters with upper- and lower-case letters, a digit and a symbol")
		}
	}
	for k, n := range s.Supervisor.Replicas {
		if n < 0 || n > 20 {
			l.fail("supervisor.replicas."+k, "%d is out of range; use 0 to 20", n)
		}
	}
	s.Stores.MongoDB.Password, s.Stores.MongoDB.HasPassword = l.secret("mongodbPassword")
	if seed, ok := l.secret("credentialSeed"); ok {
		if v, _ := l.src.GetConfig(Project + ":credentialSeed"); len(v) < 16 {
			l.fail("credentialSeed", "is too short to derive passwords from; use at least 16 random characters (make up creates one)")
		}
		s.CredentialSeed = &seed
	}

	switch s.Cluster.Type {
	case "local":
	case "eks":
		l.checkEKS(&s.Cluster.EKS)
	default:
		l.fail("clusterType", "%q is not a cluster type; use \"local\" (an existing kube context, e.g. minikube) or \"eks\"", s.Cluster.Type)
	}
	for _, ns := range [][2]string{{"namespace", s.Namespace}, {"pluginNamespace", s.PluginNamespace}} {
		if err := CheckNamespace(ns[1]); err != nil {
			l.fail(ns[0], "%v", err)
		}
	}
	if s.Namespace == s.PluginNamespace {
		l.fail("pluginNamespace", "must differ from spaceone:namespace (%q): plugins run apart from the core services", s.Namespace)
	}
	if s.Stores.KeepVolumes == nil {
		keep := s.Cluster.Type == "eks" // data on a cloud cluster outlives a destroy unless told otherwise
		s.Stores.KeepVolumes = &keep
	}
	if !isDNSLabel(s.Domain) {
		l.fail("domain", "%q is not a valid SpaceONE domain name (lower-case letters, digits and '-')", s.Domain)
	}
	l.checkImages(&s.Images)
	l.checkPlugins(s, known)
	l.checkServices(s.Services, known)
	s.Stores.withDefaults()
	l.checkStores(&s.Stores)
	s.Console.withDefaults()
	l.checkConsole(&s.Console)
	l.checkBackup(s, backupSet)
	s.Backup = s.Backup.withDefaults(s.Cluster.Type)

	if s.Services == nil {
		s.Services = map[string]ServiceOverride{}
	}
	if len(l.problems) > 0 {
		// The settings come back too, for checks against the catalogue to add their problems
		// to the same message; they must not be deployed.
		return s, l.problems
	}
	return s, nil
}

func (l *loader) secret(key string) (pulumi.StringOutput, bool) {
	full := Project + ":" + key
	v, ok := l.src.GetConfig(full)
	if !ok {
		return pulumi.StringOutput{}, false
	}
	if !l.src.IsConfigSecret(full) {
		l.fail(key, "is stored in plain text; store it as a secret: pulumi config set --secret %s <value>", key)
	}
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput), true
}

func (l *loader) localServices(known Known) map[string]Address {
	raw := map[string]string{}
	l.object("localServices", &raw)
	out := map[string]Address{}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		key := "localServices." + name
		isStore := slices.Contains(releaseStores(known), name)
		if !isStore && known != nil && !known.HasService(name) {
			l.fail(key, "%q is neither a service of this release nor one of its stores; use one of: %s, %s", name, strings.Join(known.ServiceNames(), ", "), strings.Join(releaseStores(known), ", "))
			continue
		}
		host, portText, ok := strings.Cut(raw[name], ":")
		port, err := strconv.Atoi(portText)
		switch {
		case !ok || err != nil:
			l.fail(key, "%q is not <address>:<port> (e.g. 192.168.49.1:%d or host.minikube.internal:%[2]d)", raw[name], catalog.GRPCPort)
			continue
		case !isPort(port):
			l.fail(key, "port %d is out of range 1-65535", port)
			continue
		}
		if err := CheckHost(host); err != nil {
			l.fail(key, "%v (e.g. host.minikube.internal:%d)", err, catalog.GRPCPort)
			continue
		}
		a := Address{Host: host, Port: port}
		if !a.IsIP() && !isStore && port != catalog.GRPCPort {
			// An ExternalName Service is a DNS alias: callers keep dialing the gRPC port.
			l.fail(key, "a host name is reached through an ExternalName Service, which cannot change the port: run the service on port %d, or give an IP address", catalog.GRPCPort)
			continue
		}
		out[name] = a
	}
	return out
}

// clusterOf is the cluster part of Settings where the stack deploys (the EKS settings are
// read with the rest).
func clusterOf(t target.Target) Cluster {
	return Cluster{Type: t.Type, Kubeconfig: t.Kubeconfig, KubeContext: t.KubeContext}
}
