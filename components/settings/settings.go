// Package settings reads the stack configuration of the spaceone project into one typed,
// validated value. Every check happens here, before any resource is registered, so bad
// input stops `pulumi up` with a message that names the setting and the fix and never
// leaves a half-made deployment behind.
package settings

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// Project is the Pulumi project name; every key below lives in its namespace ("spaceone:<key>").
const Project = target.Project

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
