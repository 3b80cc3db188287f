package stores

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

const (
	consulRepository = "hashicorp/consul"
	consulTag        = "1.15.4"
)

// ConsulArgs configures the Consul store.
type ConsulArgs struct {
	Common
	External *Endpoint // when set, nothing is deployed
}

// Consul is a single Consul server. It holds the root API key (root/api_key/TOKEN) that the
// token consumers read, and every secret stored through the secret service's
// ConsulConnector, so its data must survive restarts.
type Consul struct {
	pulumi.ResourceState
	Endpoint Endpoint
	Ready    []pulumi.Resource
}

// NewConsul deploys Consul, or records the external endpoint.
func NewConsul(ctx *pulumi.Context, name string, args *ConsulArgs, opts ...pulumi.ResourceOption) (*Consul, error) {
	c := &Consul{}
	if err := ctx.RegisterComponentResource("spaceone:stores:Consul", name, c, opts...); err != nil {
		return nil, err
	}
	if args.External != nil {
		c.Endpoint = *args.External
		return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"host": pulumi.String(c.Endpoint.Host)})
	}
	ready, err := deploy(ctx, c, args.Common, workload{
		name: "consul", repository: consulRepository, tag: consulTag,
		port: catalog.StorePorts["consul"], portName: "http", uid: 100, gid: 1000, dataPath: "/consul/data",
		args: []string{"agent", "-server", "-bootstrap-expect=1", "-node=consul-0", "-client=0.0.0.0",
			"-bind=127.0.0.1", "-data-dir=/consul/data", "-disable-host-node-id",
			// Consul asks checkpoint-api.hashicorp.com for updates: no store of ours phones
			// home (and an air-gapped cluster would log an error for it every day).
			"-hcl=disable_update_check = true"},
		// The image's entrypoint would chown the data dir and switch user, which needs
		// capabilities this pod does not have; it already runs as the consul user.
		env:       corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("CONSUL_DISABLE_PERM_MGMT"), Value: pulumi.String("true")}},
		resources: kube.Resources("50m", "64Mi", "500m", "256Mi"),
		readiness: &corev1.ProbeArgs{
			HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String("/v1/status/leader"), Port: pulumi.Int(catalog.StorePorts["consul"])},
			PeriodSeconds: pulumi.Int(5),
		},
	})
	if err != nil {
		return nil, err
	}
	c.Endpoint = Endpoint{Host: "consul", Port: catalog.StorePorts["consul"]}
	c.Ready = ready
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"host": pulumi.String("consul")})
}
