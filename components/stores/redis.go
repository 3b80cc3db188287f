package stores

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

const (
	redisRepository = "redis"
	redisTag        = "7.2.4"
)

// RedisArgs configures the Redis store (cache and queues of every service).
type RedisArgs struct {
	Common
	External *Endpoint // when set, nothing is deployed
}

// Redis holds caches and work queues; append-only persistence keeps queued jobs across restarts.
type Redis struct {
	pulumi.ResourceState
	Endpoint Endpoint
	Ready    []pulumi.Resource
}

// NewRedis deploys Redis, or records the external endpoint.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	r := &Redis{}
	if err := ctx.RegisterComponentResource("spaceone:stores:Redis", name, r, opts...); err != nil {
		return nil, err
	}
	if args.External != nil {
		r.Endpoint = *args.External
		return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"host": pulumi.String(r.Endpoint.Host)})
	}
	ready, err := deploy(ctx, r, args.Common, workload{
		name: "redis", repository: redisRepository, tag: redisTag,
		port: catalog.StorePorts["redis"], portName: "redis", uid: 999, gid: 999, dataPath: "/data",
		args:      []string{"redis-server", "--appendonly", "yes", "--dir", "/data", "--protected-mode", "no"},
		resources: kube.Resources("50m", "64Mi", "500m", "256Mi"),
		readiness: execProbe("redis-cli", "ping"),
	})
	if err != nil {
		return nil, err
	}
	r.Endpoint = Endpoint{Host: "redis", Port: catalog.StorePorts["redis"]}
	r.Ready = ready
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"host": pulumi.String("redis")})
}
