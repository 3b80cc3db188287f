// Package settings reads the stack configuration of the spaceone project into one typed,
// validated value. Every check happens here, before any resource is registered, so bad
// input stops `pulumi up` with a message that names the setting and the fix and never
// leaves a half-made deployment behind.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// Project is the Pulumi project name; every key below lives in its namespace ("spaceone:<key>").
const Project = "spaceone"

// Settings is the whole validated stack configuration.
type Settings struct {
	Cluster         Cluster
	Namespace       string // core namespace: services, stores, frontend
	PluginNamespace string // where the supervisor runs plugins
	Release         string // SpaceONE release whose catalogue is deployed
	// ConfirmReleaseChange confirms one change of release on a stack with data ("<from>-><to>").
	ConfirmReleaseChange string
	Images               Images
	Services             map[string]ServiceOverride
	Stores               Stores
	Console              Console
	Domain               string // SpaceONE domain the console signs in to
	AdminUser            string // owner of Domain: the console login
	// AdminPassword is the console password when given as a secret (spaceone:adminPassword);
	// otherwise the platform generates one.
	AdminPassword    pulumi.StringOutput
	HasAdminPassword bool
	// CredentialSeed (spaceone:credentialSeed, a secret) is what generated passwords are
	// derived from, so they survive a Secret's re-creation; nil: random, kept in the cluster.
	CredentialSeed *pulumi.StringOutput
	// MarketplaceToken registers the public plugin marketplace (needs internet).
	MarketplaceToken    pulumi.StringOutput
	HasMarketplaceToken bool
	Initializer         Initializer
	Supervisor          Supervisor
	// Plugins are registered in the platform's local repository (spaceone:plugins).
	Plugins []Plugin
	// Backup is when backups are taken and how many are kept (spaceone:backup).
	Backup Backup
	// Restore names a backup to put back into the platform (spaceone:restore): the up after
	// a new name restores it, once.
	Restore string
	// LocalServices routes a service (or store) to a process outside the cluster, e.g. on a
	// developer's laptop: its Service keeps name and port, its pods are not run.
	LocalServices map[string]Address
	Dev           Dev
	// RenderDir, when set, makes the provider write YAML manifests there instead of talking
	// to a cluster (`make render`).
	RenderDir string
}

// Cluster says where SpaceONE runs.
type Cluster struct {
	Type        string // "local" (an existing kube context or kubeconfig file) or "eks"
	KubeContext string // local: context name in the user's kubeconfig
	Kubeconfig  string // local: path of a kubeconfig file (the sim stack); overrides the default file
	EKS         EKS    // eks only
}

// EKS is the AWS cluster the eks stack provisions.
type EKS struct {
	Region            string   `json:"region"`
	Name              string   `json:"name"`              // EKS cluster name
	KubernetesVersion string   `json:"kubernetesVersion"` // e.g. "1.30"
	AvailabilityZones []string `json:"availabilityZones"` // 2 or 3
	VPC               VPC      `json:"vpc"`
	Nodes             Nodes    `json:"nodes"`
	// EndpointPublicAccess / EndpointPrivateAccess of the Kubernetes API.
	EndpointPublicAccess  *bool    `json:"endpointPublicAccess"`
	EndpointPrivateAccess *bool    `json:"endpointPrivateAccess"`
	PublicAccessCidrs     []string `json:"publicAccessCidrs"`
	// LoadBalancerControllerVersion is the aws-load-balancer-controller chart version.
	LoadBalancerControllerVersion string `json:"loadBalancerControllerVersion"`
}

// VPC is a new VPC (CIDR, NAT) or an existing one (VpcID and subnets).
type VPC struct {
	CIDR             string   `json:"cidr"`
	NATGateways      string   `json:"natGateways"` // "single" (default) or "perAz"
	VpcID            string   `json:"vpcId"`
	PublicSubnetIDs  []string `json:"publicSubnetIds"`
	PrivateSubnetIDs []string `json:"privateSubnetIds"`
}

// Nodes is the managed node group.
type Nodes struct {
	InstanceTypes []string `json:"instanceTypes"`
	Min           int      `json:"min"`
	Desired       int      `json:"desired"`
	Max           int      `json:"max"`
	DiskSizeGiB   int      `json:"diskSizeGiB"`
}

// Images controls where images come from (air-gapped installs use Registry).
type Images struct {
	Registry    string   `json:"registry"`    // replaces the registry/owner part of every image, e.g. "registry.local:5000/spaceone"
	PullPolicy  string   `json:"pullPolicy"`  // IfNotPresent, Always or Never
	PullSecrets []string `json:"pullSecrets"` // names of existing docker-registry Secrets in the core namespace
	// InsecureRegistry: the plugins' registry (images.registry's host, or a plugin image's own)
	// answers plain HTTP, not HTTPS, when the repository service asks it for versions.
	InsecureRegistry bool `json:"insecureRegistry"`
}

// ServiceOverride is what a stack may change about one catalogue service.
type ServiceOverride struct {
	Enabled   *bool          `json:"enabled"`
	Image     string         `json:"image"`     // repository without tag, e.g. "myrepo/identity"
	Tag       string         `json:"tag"`       // MAJOR.MINOR.SPRINT[.HOTFIX][-EXTRA]
	Replicas  map[string]int `json:"replicas"`  // per variant: grpc, scheduler, worker, rest
	Variants  []string       `json:"variants"`  // replaces the catalogue's default variants
	Resources *Resources     `json:"resources"` // requests/limits for every container of the service
	Config    map[string]any `json:"config"`    // merged into the service's GLOBAL config
}

// Address is a host and port outside the cluster.
type Address struct {
	Host string
	Port int
}

// IsIP reports whether the host is an IPv4 address (an EndpointSlice) rather than a name (ExternalName).
func (a Address) IsIP() bool { return isIPv4(a.Host) }

// Dev says how a laptop reaches the cluster's services (`make dev-connect` and devConfig).
type Dev struct {
	Expose  string `json:"expose"`  // portForward (default) or nodePort
	Address string `json:"address"` // node address for nodePort (minikube ip)
}

// Initializer configures the first-install Job.
type Initializer struct {
	TimeoutMinutes int `json:"timeoutMinutes"` // how long pulumi waits for the Job
	// RotateAPIKey, set to a new value, makes the next up create a new API key, hand it over,
	// disable the old one and restart the token consumers; otherwise the key is kept.
	RotateAPIKey string `json:"rotateApiKey"`
}

// Supervisor configures the plugin runner.
type Supervisor struct {
	Enabled  *bool          `json:"enabled"`
	Replicas map[string]int `json:"replicas"` // plugin replicas per kind, e.g. {"inventory.Collector": 2}
}

// Resources are container requests and limits in Kubernetes quantity notation.
type Resources struct {
	CPURequest    string `json:"cpuRequest"`
	MemoryRequest string `json:"memoryRequest"`
	CPULimit      string `json:"cpuLimit"`
	MemoryLimit   string `json:"memoryLimit"`
}

// Stores configures MongoDB, Redis and Consul.
type Stores struct {
	StorageClass string `json:"storageClass"` // "" = the cluster's default StorageClass
	// KeepVolumes keeps the stores' volumes when the stack is destroyed (default: on eks only).
	KeepVolumes *bool `json:"keepVolumes"`
	MongoDB     Store `json:"mongodb"`
	Redis       Store `json:"redis"`
	Consul      Store `json:"consul"`
	// inRelease are the stores the release runs on (Known.StoreNames): the others are not
	// deployed, and setting them is refused.
	inRelease []string
}

// ByName is each store of the release under the name of its Service (mongodb, redis, consul).
func (st *Stores) ByName() map[string]*Store {
	all := map[string]*Store{"mongodb": &st.MongoDB, "redis": &st.Redis, "consul": &st.Consul}
	for name := range all {
		if st.inRelease != nil && !slices.Contains(st.inRelease, name) {
			delete(all, name)
		}
	}
	return all
}

// Store is one store: in the cluster (Size) or External.
type Store struct {
	Size     string    `json:"size"`
	External *External `json:"external"`
	// RotateUserPasswords (MongoDB in the cluster only): a new value gives every service's
	// database user a new password, set on the user and in the service's config by one up.
	RotateUserPasswords string `json:"rotateUserPasswords"`
	// Password is filled from the store's secret key (e.g. spaceone:mongodbPassword), never from the object.
	Password    pulumi.StringOutput `json:"-"`
	HasPassword bool                `json:"-"`
}

// External points a store at an endpoint outside the cluster; the store is then not deployed.
type External struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
}

// Console says how the browser reaches console and console-api.
type Console struct {
	// Enabled: false leaves console and console-api out (an API-only platform: spacectl and
	// the gRPC services; the real-run tests, which cannot run the Vue console, use it).
	Enabled     *bool  `json:"enabled"`
	Expose      string `json:"expose"`      // nodePort | portForward | ingress
	NodePort    int    `json:"nodePort"`    // console NodePort when expose=nodePort
	APINodePort int    `json:"apiNodePort"` // console-api NodePort when expose=nodePort
	Address     string `json:"address"`     // node address the browser uses when expose=nodePort (minikube ip)
	Host        string `json:"host"`        // console host when expose=ingress
	APIHost     string `json:"apiHost"`     // console-api host when expose=ingress
	// IngressClass is the IngressClass of the ingress ("" = the cluster's: nginx on minikube).
	IngressClass string `json:"ingressClass"`
	// TLSSecret names a kubernetes.io/tls Secret in the core namespace for both hosts.
	TLSSecret string `json:"tlsSecret"`
	// CertificateARN is an ACM certificate for the ALB ingress (eks).
	CertificateARN string `json:"certificateArn"`
}

// On reports whether console and console-api are deployed (the default).
func (c Console) On() bool { return c.Enabled == nil || *c.Enabled }

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
	l.checkTopLevelKeys()
	s := &Settings{
		Cluster: Cluster{
			Type:       l.str("clusterType", "local"),
			Kubeconfig: l.str("kubeconfig", ""),
		},
		Namespace:            l.str("namespace", "spaceone"),
		PluginNamespace:      l.str("pluginNamespace", "root-supervisor"),
		Release:              l.str("release", DefaultRelease),
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
		Console: Console{Expose: "portForward"},
		Backup:  Backup{Keep: DefaultBackupKeep},
	}
	// With a kubeconfig file of its own, a stack uses that file's current context by default.
	if s.Cluster.Kubeconfig == "" {
		s.Cluster.KubeContext = l.str("kubeContext", "minikube")
	} else {
		s.Cluster.KubeContext = l.str("kubeContext", "")
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
	if s.Cluster.Type == "local" && s.Cluster.KubeContext == "" && s.Cluster.Kubeconfig == "" && s.RenderDir == "" {
		l.fail("kubeContext", "is empty; name the kube context to deploy to (e.g. minikube) or set spaceone:kubeconfig to a kubeconfig file")
	}
	if s.Cluster.Kubeconfig != "" && !filepath.IsAbs(s.Cluster.Kubeconfig) {
		// Relative paths are relative to the project directory, where the program runs.
		if abs, err := filepath.Abs(s.Cluster.Kubeconfig); err == nil {
			s.Cluster.Kubeconfig = abs
		}
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
	l.checkStores(&s.Stores)
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

func (l *loader) checkImages(im *Images) {
	switch im.PullPolicy {
	case "IfNotPresent", "Always", "Never":
	default:
		l.fail("images.pullPolicy", "%q is not a pull policy; use IfNotPresent, Always or Never", im.PullPolicy)
	}
	if im.Registry != "" && (strings.Contains(im.Registry, "://") || strings.HasSuffix(im.Registry, "/") || strings.ContainsAny(im.Registry, " :@") && !registryWithPort(im.Registry)) {
		l.fail("images.registry", "%q is not a registry prefix; write it like registry.example.com:5000/spaceone (no scheme, no trailing /)", im.Registry)
	}
	for i, s := range im.PullSecrets {
		if !isDNSSubdomain(s) {
			l.fail(fmt.Sprintf("images.pullSecrets[%d]", i), "%q is not a Secret name", s)
		}
	}
}

func registryWithPort(r string) bool {
	host, _, _ := strings.Cut(r, "/")
	h, port, ok := strings.Cut(host, ":")
	if !ok || h == "" || strings.ContainsAny(r, " @") {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return port != ""
}

var variantNames = map[string]bool{"grpc": true, "scheduler": true, "worker": true, "rest": true}

func (l *loader) checkServices(svcs map[string]ServiceOverride, known Known) {
	names := make([]string, 0, len(svcs))
	for n := range svcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		o := svcs[name]
		key := "services." + name
		if known != nil && !known.HasService(name) {
			l.fail(key, "%q is not a service of this release; known services: %s", name, strings.Join(known.ServiceNames(), ", "))
			continue
		}
		if o.Tag != "" {
			if err := CheckTag(o.Tag); err != nil {
				l.fail(key+".tag", "%v", err)
			}
		}
		if o.Image != "" && (strings.Contains(o.Image, "@") || strings.Contains(lastSegment(o.Image), ":")) {
			l.fail(key+".image", "%q must be a repository without tag or digest (set the tag in %s.tag)", o.Image, key)
		}
		for v, n := range o.Replicas {
			if !variantNames[v] {
				l.fail(key+".replicas."+v, "%q is not a variant; use grpc, scheduler, worker or rest", v)
			}
			if n < 0 || n > 50 {
				l.fail(key+".replicas."+v, "%d is out of range; use 0 to 50", n)
			}
		}
		for i, v := range o.Variants {
			if !variantNames[v] {
				l.fail(fmt.Sprintf("%s.variants[%d]", key, i), "%q is not a variant; use grpc, scheduler, worker or rest", v)
			}
		}
		if r := o.Resources; r != nil {
			for _, k := range []struct {
				name, v string
				kind    quantityKind
			}{{"cpuRequest", r.CPURequest, cpuQuantity}, {"cpuLimit", r.CPULimit, cpuQuantity},
				{"memoryRequest", r.MemoryRequest, memoryQuantity}, {"memoryLimit", r.MemoryLimit, memoryQuantity}} {
				if k.v == "" {
					continue
				}
				if _, err := CheckQuantity(k.v, k.kind); err != nil {
					l.fail(key+".resources."+k.name, "%v", err)
				}
			}
		}
	}
}

func lastSegment(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}

func (l *loader) checkStores(st *Stores) {
	if st.StorageClass != "" && !isDNSSubdomain(st.StorageClass) {
		l.fail("stores.storageClass", "%q is not a StorageClass name", st.StorageClass)
	}
	var raw map[string]any
	if text, ok := l.src.GetConfig(Project + ":stores"); ok {
		_ = json.Unmarshal([]byte(text), &raw)
	}
	for _, name := range catalog.StoreNames {
		if _, set := raw[name]; set && !slices.Contains(st.inRelease, name) {
			l.fail("stores."+name, "is set, but this release runs no %s (it runs %s); remove spaceone:stores.%s", name, strings.Join(st.inRelease, ", "), name)
		}
	}
	for name, s := range st.ByName() {
		key := "stores." + name
		switch {
		case s.RotateUserPasswords != "" && name != "mongodb":
			l.fail(key+".rotateUserPasswords", "only MongoDB's service users have passwords the stack sets; remove it from stores.%s", name)
		case s.RotateUserPasswords != "" && s.External != nil:
			l.fail(key+".rotateUserPasswords", "MongoDB is external: change its users' passwords there (and mongodbPassword); remove rotateUserPasswords")
		}
		if s.External == nil {
			if _, err := CheckQuantity(s.Size, sizeQuantity); err != nil {
				l.fail(key+".size", "%v", err)
			}
			continue
		}
		if err := CheckHost(s.External.Host); err != nil {
			l.fail(key+".external.host", "%v", err)
		}
		if s.External.Port == 0 {
			s.External.Port = catalog.StorePorts[name]
		}
		if !isPort(s.External.Port) {
			l.fail(key+".external.port", "%d is not a TCP port (1-65535)", s.External.Port)
		}
	}
	if st.MongoDB.External != nil {
		if st.MongoDB.External.Username == "" {
			l.fail("stores.mongodb.external.username", "is required for an external MongoDB (a user with readWrite on the service databases)")
		}
		if !st.MongoDB.HasPassword {
			l.fail("mongodbPassword", "is required for an external MongoDB: pulumi config set --secret mongodbPassword <password>")
		}
	}
}

func (l *loader) checkConsole(c *Console) {
	switch c.Expose {
	case "portForward":
	case "nodePort":
		if c.Address == "" {
			c.Address = "192.168.49.2" // minikube's address with its default docker driver
		}
		if err := CheckHost(c.Address); err != nil {
			l.fail("console.address", "%v (the address your browser reaches the cluster nodes at: minikube ip)", err)
		}
		if c.NodePort == 0 {
			c.NodePort = 30080
		}
		if c.APINodePort == 0 {
			c.APINodePort = 30081
		}
		for k, p := range map[string]int{"console.nodePort": c.NodePort, "console.apiNodePort": c.APINodePort} {
			if p < 30000 || p > 32767 {
				l.fail(k, "%d is outside the NodePort range 30000-32767", p)
			}
		}
		if c.NodePort == c.APINodePort {
			l.fail("console.apiNodePort", "must differ from console.nodePort (%d)", c.NodePort)
		}
	case "ingress":
		if c.IngressClass != "" && !isDNSSubdomain(c.IngressClass) {
			l.fail("console.ingressClass", "%q is not an IngressClass name (e.g. nginx, alb)", c.IngressClass)
		}
		if c.CertificateARN != "" && !arnPattern.MatchString(c.CertificateARN) {
			l.fail("console.certificateArn", "%q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", c.CertificateARN)
		}
		if c.TLSSecret != "" && !isDNSSubdomain(c.TLSSecret) {
			l.fail("console.tlsSecret", "%q is not a Secret name", c.TLSSecret)
		}
		if err := CheckHost(c.Host); err != nil {
			l.fail("console.host", "%v (required when console.expose is ingress)", err)
		}
		if err := CheckHost(c.APIHost); err != nil {
			l.fail("console.apiHost", "%v (required when console.expose is ingress)", err)
		}
	default:
		l.fail("console.expose", "%q is not supported; use portForward, nodePort or ingress", c.Expose)
	}
}

// CheckHost accepts a DNS name or an IPv4 address.
func CheckHost(h string) error {
	if h == "" {
		return errors.New("is empty; give a host name or IP address")
	}
	if isIPv4(h) || isDNSSubdomain(strings.ToLower(h)) {
		return nil
	}
	return fmt.Errorf("%q is not a host name or IPv4 address", h)
}

// ConsoleAPIURL is console-api as the browser reaches it.
func (s *Settings) ConsoleAPIURL() string {
	switch s.Console.Expose {
	case "nodePort":
		return fmt.Sprintf("http://%s:%d", s.Console.Address, s.Console.APINodePort)
	case "ingress":
		return s.scheme() + s.Console.APIHost
	default:
		return "http://localhost:8081" // kubectl port-forward svc/console-api 8081:80
	}
}

// ConsoleURL is the console as the browser reaches it.
func (s *Settings) ConsoleURL() string {
	switch s.Console.Expose {
	case "nodePort":
		return fmt.Sprintf("http://%s:%d", s.Console.Address, s.Console.NodePort)
	case "ingress":
		return s.scheme() + s.Console.Host
	default:
		return "http://localhost:8080" // kubectl port-forward svc/console 8080:80
	}
}

func (s *Settings) scheme() string {
	if s.Console.TLSSecret != "" || s.Console.CertificateARN != "" {
		return "https://"
	}
	return "http://"
}

// InClusterStores are the stores that run in the cluster: neither external nor routed to a
// developer's laptop (localServices). Sorted, so the resources they produce keep their order.
func (s *Settings) InClusterStores() []string {
	var names []string
	for name, st := range s.Stores.ByName() {
		if _, local := s.LocalServices[name]; st.External == nil && !local {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// SupervisorEnabled reports whether the plugin runner is deployed (default yes).
func (s *Settings) SupervisorEnabled() bool {
	return s.Supervisor.Enabled == nil || *s.Supervisor.Enabled
}

func strongPassword(pw string) bool {
	var up, low, digit, sym bool
	for _, c := range pw {
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			low = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			sym = true
		}
	}
	return len(pw) >= 8 && up && low && digit && sym
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
			l.fail(key, "%q is not <address>:<port> (e.g. 192.168.49.1:50051 or host.minikube.internal:50051)", raw[name])
			continue
		case !isPort(port):
			l.fail(key, "port %d is out of range 1-65535", port)
			continue
		}
		if err := CheckHost(host); err != nil {
			l.fail(key, "%v (e.g. host.minikube.internal:50051)", err)
			continue
		}
		a := Address{Host: host, Port: port}
		if !a.IsIP() && !isStore && port != 50051 {
			// An ExternalName Service is a DNS alias: callers keep dialing port 50051.
			l.fail(key, "a host name is reached through an ExternalName Service, which cannot change the port: run the service on port 50051, or give an IP address")
			continue
		}
		out[name] = a
	}
	return out
}

func (l *loader) checkDev(d *Dev) {
	switch d.Expose {
	case "", "portForward":
		d.Expose = "portForward"
	case "nodePort":
		if d.Address == "" {
			d.Address = "192.168.49.2"
		}
		if err := CheckHost(d.Address); err != nil {
			l.fail("dev.address", "%v (the node address your laptop reaches: minikube ip)", err)
		}
	default:
		l.fail("dev.expose", "%q: use portForward (make dev-connect) or nodePort (fixed node ports 30151+ on minikube)", d.Expose)
	}
}
