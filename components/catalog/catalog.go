// Package catalog is the release catalogue: for each SpaceONE release, every service with
// its image, variants, database, the services it calls and its configuration, loaded from
// one data file per release (releases/<version>.yaml). Adding a release is a data change.
package catalog

import (
	"bytes"
	"embed"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed releases/*.yaml
var releases embed.FS

// Variants in the order they are deployed.
var VariantOrder = []string{"grpc", "scheduler", "worker", "rest"}

// GRPCPort is the port of every SpaceONE gRPC server.
const GRPCPort = 50051

// Release is one SpaceONE release.
type Release struct {
	Version  string `yaml:"release"`
	Spacectl Image  `yaml:"spacectl"`
	// Supervisor runs plugins; it is deployed by its own component (RBAC, plugin namespace).
	Supervisor Supervisor `yaml:"supervisor"`
	// Plugins is what the release's plugin machinery accepts (spaceone:plugins).
	Plugins   Plugins             `yaml:"plugins"`
	Resources Resources           `yaml:"resources"` // default per container
	Services  map[string]*Service `yaml:"services"`
	Frontend  map[string]Image    `yaml:"frontend"`
	// TokenReady is how a token consumer shows it holds the API key: its readiness probe.
	TokenReady TokenReady `yaml:"tokenReady"`
	// Start is what waits for what at a first install, and why; everything else starts at once.
	Start []Wait `yaml:"start"`
	// Stores are the stores the release runs on (a subset of StoreNames).
	Stores []string `yaml:"stores"`
	// APIKey is how the initializer hands the API key to the token consumers.
	APIKey APIKey `yaml:"apiKey"`
	// DataMigration is what must happen to a stack's data, deployed by another release, before
	// this release runs on it (up refuses the change until it is confirmed).
	DataMigration string `yaml:"dataMigration"`
	// DataJobs names the service in whose image the platform's data Jobs run (database users,
	// backup, restore, upgrade): python3 with pymongo and bson, which python-core's image
	// ships to every service.
	DataJobs string `yaml:"dataJobs"`
	// UpgradeFrom are the releases whose data an up moves to this one by itself, once the
	// change is confirmed (components/backup/spaceone_upgrade.py), each with what it deletes.
	UpgradeFrom map[string]Upgrade `yaml:"upgradeFrom"`
	// Config holds GLOBAL keys every service of the release shares (python-core's handlers,
	// for one), merged over the platform's defaults and under each service's own.
	Config map[string]any `yaml:"config"`
	names  []string
}

// Upgrade is a move of the data from an earlier release, as preview and up announce it.
type Upgrade struct {
	Deletes string `yaml:"deletes"` // what the move deletes (a backup of everything is taken first)
}

// StoreNames are the stores a release can run on, in the order the platform deploys them.
var StoreNames = []string{"mongodb", "redis", "consul"}

// StorePorts are the stores' protocol ports (an external store's default port too).
var StorePorts = map[string]int{"mongodb": 27017, "redis": 6379, "consul": 8500}

// APIKey is the hand-off of the root API key from the initializer to the token consumers.
type APIKey struct {
	Handoff string `yaml:"handoff"` // HandoffConsul or HandoffSecret
}

// The hand-offs a release can use.
const (
	// HandoffConsul: the initializer PUTs the key to Consul (root/api_key/TOKEN), and every
	// consumer reads it there through TOKEN_INFO (SpaceONE's own way up to 1.11.0).
	HandoffConsul = "consul"
	// HandoffSecret: the initializer writes the key into a Kubernetes Secret in each namespace
	// with a consumer, and every consumer imports it as a config file (TOKEN). Upstream has
	// no hand-off after Consul: the key is copied from a pod log by hand.
	HandoffSecret = "secret"
)

// Wait is one rule of the start order: each of Workloads is not created before every
// workload of WaitFor is ready. A name is a workload (a store, a service's gRPC server,
// <service>-<variant>, one of PlatformWorkloads); in Workloads also a pattern of them
// (path.Match, e.g. "*-worker") or TokenConsumers.
type Wait struct {
	Workloads []string `yaml:"workloads"`
	WaitFor   []string `yaml:"waitFor"`
	Why       string   `yaml:"why"`
}

// TokenConsumers names, in a start rule, every process that reads the API key when it
// starts: the variants of TokenReady that have token: true, and the supervisor.
const TokenConsumers = "tokenConsumers"

// The platform's workloads outside the catalogue's services (the stores are the release's
// own: Release.Stores).
const (
	WorkloadInitializer = "initializer"
	WorkloadSupervisor  = "supervisor"
	WorkloadConsole     = "console"
	WorkloadConsoleAPI  = "console-api"
)

// PlatformWorkloads are the workloads outside the catalogue's services.
var PlatformWorkloads = []string{WorkloadInitializer, WorkloadSupervisor, WorkloadConsole, WorkloadConsoleAPI, DBUsers}

// DBUsers is the Job that sets the services' MongoDB users (an in-cluster MongoDB only).
const DBUsers = "db-users"

// TokenReady names the processes that read the API key when they start (the variants
// listed that have token: true, and the supervisor: the token consumers of the start order)
// and, when Command is set, their readiness probe, so they are Ready only once they hold it.
type TokenReady struct {
	Variants []string `yaml:"variants"`
	Command  []string `yaml:"command"` // run in the container; succeeds once the key is held
}

// ReadsAtStart reports whether a variant of a service reads the key when it starts.
func (t TokenReady) ReadsAtStart(variant string, v *Variant) bool {
	return v != nil && v.Token && slices.Contains(t.Variants, variant)
}

// Gates reports whether a variant of a service waits, for readiness, until it holds the key.
func (t TokenReady) Gates(variant string, v *Variant) bool {
	return t.ReadsAtStart(variant, v) && len(t.Command) > 0
}

// Supervisor is the plugin runner's image and what its container requests (measured: its
// scheduler and worker processes together).
type Supervisor struct {
	Image     `yaml:",inline"`
	Resources Resources `yaml:"resources"`
}

// Plugins is what a release's repository and services make of plugins.
type Plugins struct {
	// ServiceTypes are the plugin kinds its services ask the plugin service for.
	ServiceTypes []string `yaml:"serviceTypes"`
	// Registries are the registry types its repository finds plugin versions in.
	Registries []string `yaml:"registries"`
}

// The registry types of SpaceONE's repository service: how it finds a plugin's versions.
const (
	// RegistryDockerHub: Docker Hub's own API (registry.hub.docker.com/v2/repositories/...),
	// over the internet.
	RegistryDockerHub = "DOCKER_HUB"
	// RegistryHarbor: the Docker Registry HTTP API v2 (/v2/<image>/tags/list) of any registry
	// (Harbor, distribution's registry, Nexus, ...); SpaceONE names it after Harbor.
	RegistryHarbor = "HARBOR"
)

// Image is a repository and a pinned tag.
type Image struct {
	Repository string `yaml:"image"`
	Tag        string `yaml:"tag"`
	// Config, for a frontend app, is merged into its production.json (${consoleApiUrl}: where
	// the browser reaches console-api).
	Config map[string]any `yaml:"config"`
}

// Resources are container requests and limits; empty fields fall back to the release default.
type Resources struct {
	CPURequest    string `yaml:"cpuRequest"`
	MemoryRequest string `yaml:"memoryRequest"`
	CPULimit      string `yaml:"cpuLimit"`
	MemoryLimit   string `yaml:"memoryLimit"`
}

// Service is one backend microservice.
type Service struct {
	Name     string `yaml:"-"`
	Image    string `yaml:"image"`
	Tag      string `yaml:"tag"`
	Package  string `yaml:"package"`  // python package, e.g. spaceone.identity
	Database string `yaml:"database"` // MongoDB database ("" = none)
	// DataStore, when set, is a second database the service reaches through a connector of
	// its own (secret's payloads: MongoDBConnector), with the service's login.
	DataStore *DataStore `yaml:"dataStore"`
	Calls     []string   `yaml:"calls"`   // services it calls: start order and the README graph
	DevPort   int        `yaml:"devPort"` // laptop port of `make dev-connect`
	// AuthenticatedCall is a resource type spacectl lists with a token, e.g. identity.User:
	// a call that needs a valid token and touches the service's database, which is how the
	// real tests know the service works (gRPC health answers before either).
	AuthenticatedCall string              `yaml:"authenticatedCall"`
	UsesConsul        bool                `yaml:"usesConsul"`
	Enabled           *bool               `yaml:"enabled"` // default true
	Resources         Resources           `yaml:"resources"`
	Config            map[string]any      `yaml:"config"` // GLOBAL keys shared by every variant
	Variants          map[string]*Variant `yaml:"variants"`
	// Shared is the release's config (Release.Config), under Config.
	Shared map[string]any `yaml:"-"`
}

// DataStore is a database a service's connector logs in to.
type DataStore struct {
	Connector string `yaml:"connector"` // the CONNECTORS key, e.g. MongoDBConnector
	Database  string `yaml:"database"`
}

// Databases are every database the service's login needs.
func (s *Service) Databases() []string {
	if s.Database == "" {
		return nil
	}
	out := []string{s.Database}
	if s.DataStore != nil {
		out = append(out, s.DataStore.Database)
	}
	return out
}

// Variant is one process type of a service: grpc server, scheduler, worker or rest.
type Variant struct {
	Enabled  bool           `yaml:"enabled"`
	Token    bool           `yaml:"token"` // reads the root API key (the release's APIKey hand-off)
	Replicas int            `yaml:"replicas"`
	Command  []string       `yaml:"command"` // nil: the image's default (gRPC server)
	Config   map[string]any `yaml:"config"`
}

// Load reads the catalogue of a release version.
func Load(version string) (*Release, error) {
	b, err := releases.ReadFile("releases/" + version + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no catalogue for SpaceONE release %q (known: %s)", version, strings.Join(Versions(), ", "))
	}
	r, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", version, err)
	}
	return r, nil
}

// parse decodes a catalogue strictly (a key the Release does not know is an error, not a
// silently dropped setting) and checks it.
func parse(b []byte) (*Release, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r Release
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("reading it: %w", err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Versions lists the releases with a catalogue.
func Versions() []string {
	entries, _ := releases.ReadDir("releases")
	var v []string
	for _, e := range entries {
		v = append(v, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return v
}

func (r *Release) check() error {
	for _, st := range r.Stores {
		if !slices.Contains(StoreNames, st) {
			return fmt.Errorf("stores: unknown store %q (known: %s)", st, strings.Join(StoreNames, ", "))
		}
	}
	if !slices.Contains(r.Stores, "mongodb") || !slices.Contains(r.Stores, "redis") {
		return fmt.Errorf("stores: every release runs on mongodb and redis; got %v", r.Stores)
	}
	if s, ok := r.Services[r.DataJobs]; !ok || s.Image == "" {
		return fmt.Errorf("dataJobs: %q is not a service of the release with an image", r.DataJobs)
	}
	if len(r.Plugins.ServiceTypes) == 0 {
		return fmt.Errorf("plugins.serviceTypes: empty; list the plugin kinds the services use")
	}
	for _, reg := range r.Plugins.Registries {
		if reg != RegistryDockerHub && reg != RegistryHarbor {
			return fmt.Errorf("plugins.registries: %q is not %q or %q", reg, RegistryDockerHub, RegistryHarbor)
		}
	}
	switch r.APIKey.Handoff {
	case HandoffConsul:
		if !r.UsesStore("consul") {
			return fmt.Errorf("apiKey: handoff %q needs consul in stores", HandoffConsul)
		}
	case HandoffSecret:
	default:
		return fmt.Errorf("apiKey: handoff %q is not one of %q, %q", r.APIKey.Handoff, HandoffConsul, HandoffSecret)
	}
	for name, s := range r.Services {
		s.Name = name
		s.Shared = r.Config
		if d := s.DataStore; d != nil && (d.Connector == "" || d.Database == "" || s.Database == "") {
			return fmt.Errorf("service %s: dataStore needs connector and database, and the service a database", name)
		}
		if s.UsesConsul && !r.UsesStore("consul") {
			return fmt.Errorf("service %s uses Consul, which is not in stores", name)
		}
		r.names = append(r.names, name)
		if s.Image == "" || s.Tag == "" || s.Package == "" {
			return fmt.Errorf("service %s needs image, tag and package", name)
		}
		if s.DevPort < 50100 || s.DevPort > 50199 {
			return fmt.Errorf("service %s needs a devPort in 50100-50199", name)
		}
		if !strings.Contains(s.AuthenticatedCall, ".") {
			return fmt.Errorf("service %s needs an authenticatedCall (a resource type spacectl lists with a token, e.g. identity.User), got %q", name, s.AuthenticatedCall)
		}
		if s.Variants["grpc"] == nil {
			return fmt.Errorf("service %s has no grpc variant", name)
		}
		for v, spec := range s.Variants {
			if !slices.Contains(VariantOrder, v) {
				return fmt.Errorf("service %s: unknown variant %q", name, v)
			}
			if spec == nil {
				s.Variants[v] = &Variant{}
			}
		}
		for _, c := range s.Calls {
			if _, ok := r.Services[c]; !ok {
				return fmt.Errorf("service %s calls unknown service %q", name, c)
			}
		}
	}
	sort.Strings(r.names)
	return r.checkStart()
}

// checkStart refuses a start rule naming a workload the release cannot have.
func (r *Release) checkStart() error {
	var all []string
	all = append(all, r.Stores...)
	all = append(all, PlatformWorkloads...)
	for svc, s := range r.Services {
		for v := range s.Variants {
			all = append(all, WorkloadName(svc, v))
		}
	}
	for i, w := range r.Start {
		if len(w.Workloads) == 0 || len(w.WaitFor) == 0 || w.Why == "" {
			return fmt.Errorf("start[%d]: needs workloads, waitFor and why", i)
		}
		for _, n := range w.Workloads {
			if n != TokenConsumers && len(MatchWorkloads(n, all)) == 0 {
				return fmt.Errorf("start[%d]: %q names no workload of the release", i, n)
			}
		}
		for _, f := range w.WaitFor {
			if !slices.Contains(all, f) {
				return fmt.Errorf("start[%d]: unknown workload %q in waitFor", i, f)
			}
		}
	}
	return r.checkNoCycle(all)
}

// checkNoCycle refuses start rules that wait in a circle (no order could start those
// workloads: every up would stop at the first of them), naming the circle.
func (r *Release) checkNoCycle(all []string) error {
	consumers := r.TokenConsumers()
	waits := map[string][]string{} // a workload -> what it waits for
	for _, w := range r.Start {
		for _, n := range w.Workloads {
			matched := MatchWorkloads(n, all)
			if n == TokenConsumers {
				matched = consumers
			}
			for _, m := range matched {
				waits[m] = append(waits[m], w.WaitFor...)
			}
		}
	}
	if err := findCircle(waits, "start rules wait in a circle: %s"); err != nil {
		return err
	}
	// The platform deploys a component's workloads together (a service's variants in one
	// component resource), so components must not wait in a circle either: the initializer
	// waiting for a service one of whose variants waits for the initializer would be one.
	between := map[string][]string{}
	for w, fs := range waits {
		for _, f := range fs {
			if c, cf := r.Component(w), r.Component(f); c != cf && !slices.Contains(between[c], cf) {
				between[c] = append(between[c], cf)
			}
		}
	}
	return findCircle(between, "start rules make components wait in a circle (a component's workloads are deployed together): %s")
}

// findCircle returns an error naming the first circle in waits (a name -> what it waits
// for), formatted by format, or nil.
func findCircle(waits map[string][]string, format string) error {
	const (
		unseen = iota
		open   // on the path being walked
		done
	)
	state := map[string]int{}
	var path []string
	var walk func(n string) error
	walk = func(n string) error {
		switch state[n] {
		case open:
			circle := append(path[slices.Index(path, n):], n)
			return fmt.Errorf(format, strings.Join(circle, " waits for "))
		case done:
			return nil
		}
		state[n] = open
		path = append(path, n)
		for _, f := range waits[n] {
			if err := walk(f); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(waits)) {
		if err := walk(n); err != nil {
			return err
		}
	}
	return nil
}

// Components that deploy more than one workload: the stores, and the frontend (console and
// console-api); a service's component is named after the service.
const (
	StoresComponent   = "stores"
	FrontendComponent = "frontend"
)

// Component is the part of the platform that deploys a workload, as one step of the start
// order: a service's variants are its service's, the stores are StoresComponent's, console
// and console-api FrontendComponent's; any other workload is its own.
func (r *Release) Component(workload string) string {
	if slices.Contains(r.Stores, workload) {
		return StoresComponent
	}
	if workload == WorkloadConsole || workload == WorkloadConsoleAPI {
		return FrontendComponent
	}
	for name, s := range r.Services {
		for v := range s.Variants {
			if WorkloadName(name, v) == workload {
				return name
			}
		}
	}
	return workload
}

// MatchWorkloads is the workloads of names that a rule's name or pattern matches.
func MatchWorkloads(pattern string, names []string) []string {
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// WorkloadName is the name of a service variant's Deployment: the service's own for the
// gRPC server, <service>-<variant> for the others.
func WorkloadName(service, variant string) string {
	if variant == "grpc" {
		return service
	}
	return service + "-" + variant
}

// DevNodePort is the NodePort of a service when the stack exposes gRPC services on nodes.
func (s *Service) DevNodePort() int { return s.DevPort - 50151 + 30151 }

// UsesStore reports whether the release runs on a store (mongodb, redis, consul).
func (r *Release) UsesStore(name string) bool { return slices.Contains(r.Stores, name) }

// StoreNames lists the release's stores in deployment order.
func (r *Release) StoreNames() []string {
	var out []string
	for _, n := range StoreNames {
		if r.UsesStore(n) {
			out = append(out, n)
		}
	}
	return out
}

// PluginServiceTypes are the plugin kinds the release's services use.
func (r *Release) PluginServiceTypes() []string { return r.Plugins.ServiceTypes }

// PluginRegistries are the registry types the release's repository reads.
func (r *Release) PluginRegistries() []string { return r.Plugins.Registries }

// TokenConsumers are the workloads that read the API key when they start (what
// TokenConsumers stands for in a start rule): every service variant TokenReady names, in
// the catalogue's order, then the supervisor. A stack runs those of them it deploys.
func (r *Release) TokenConsumers() []string {
	var out []string
	for _, name := range r.names {
		for _, v := range VariantOrder {
			if variant, ok := r.Services[name].Variants[v]; ok && r.TokenReady.ReadsAtStart(v, variant) {
				out = append(out, WorkloadName(name, v))
			}
		}
	}
	return append(out, WorkloadSupervisor)
}

// ServiceNames lists the backend services, sorted.
func (r *Release) ServiceNames() []string { return append([]string(nil), r.names...) }

// HasService reports whether name is a backend service of the release.
func (r *Release) HasService(name string) bool { _, ok := r.Services[name]; return ok }

// EnabledByDefault reports whether a service runs unless the stack says otherwise.
func (s *Service) EnabledByDefault() bool { return s.Enabled == nil || *s.Enabled }

// DefaultVariants lists the variants enabled in the catalogue, in deployment order.
func (s *Service) DefaultVariants() []string {
	var out []string
	for _, v := range VariantOrder {
		if spec := s.Variants[v]; spec != nil && spec.Enabled {
			out = append(out, v)
		}
	}
	return out
}

// Command is the container command of a variant (nil for the image default).
func (s *Service) Command(variant string) []string {
	if spec := s.Variants[variant]; spec != nil && spec.Command != nil {
		return spec.Command
	}
	if variant == "grpc" {
		return nil
	}
	return []string{"spaceone", "scheduler", s.Package}
}

// ConnectorName is the python-core connector key of a service: cost-analysis -> CostAnalysisConnector.
func ConnectorName(service string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(service, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Connector"
}

// Merge returns base with over merged in: maps merge deeply, anything else in over replaces
// (python-core's own rule for config files).
func Merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = Merge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}
