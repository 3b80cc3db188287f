package settings

import "github.com/spaceone-pulumi/spaceone/components/catalog"

// Defaults of the settings a stack may leave out that depend on other settings, each written
// once here and applied by Load before the checks, which only read. (Plain defaults are the
// arguments of Load's reads, which Pulumi.yaml's default: blocks mirror.)

// The namespaces unless namespace / pluginNamespace say otherwise (Load's reads; named here
// because the tests read the objects a default stack deploys).
const (
	DefaultNamespace       = "spaceone"
	DefaultPluginNamespace = "root-supervisor"
)

// MinikubeAddress is the node address of minikube with its default docker driver: where the
// browser (console.address) and the laptop (dev.address) reach node ports unless told otherwise.
const MinikubeAddress = "192.168.49.2"

// The console's node ports unless console.nodePort / console.apiNodePort say otherwise.
const (
	DefaultConsoleNodePort    = 30080
	DefaultConsoleAPINodePort = 30081
)

// withDefaults gives an external store its usual port.
func (st *Stores) withDefaults() {
	for name, s := range st.ByName() {
		if s.External != nil && s.External.Port == 0 {
			s.External.Port = catalog.StorePorts[name]
		}
	}
}

// withDefaults fills the node-port exposure's address and ports.
func (c *Console) withDefaults() {
	if c.Expose != "nodePort" {
		return
	}
	if c.Address == "" {
		c.Address = MinikubeAddress
	}
	if c.NodePort == 0 {
		c.NodePort = DefaultConsoleNodePort
	}
	if c.APINodePort == 0 {
		c.APINodePort = DefaultConsoleAPINodePort
	}
}

// withDefaults makes port-forwarding the dev exposure, and gives node ports minikube's address.
func (d *Dev) withDefaults() {
	switch d.Expose {
	case "":
		d.Expose = "portForward"
	case "nodePort":
		if d.Address == "" {
			d.Address = MinikubeAddress
		}
	}
}
