package platform

import (
	"fmt"
	"slices"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/credentials"
	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/supervisor"
)

// adminPassword is the console password: the stack's secret, or generated once.
// AdminSecret holds the admin's password (key "password") unless the stack gives one.
const AdminSecret = "spaceone-admin"

func (p *Platform) adminPassword(ctx *pulumi.Context, args *Args, core *corev1.Namespace) (pulumi.StringOutput, error) {
	s := args.Settings
	if s.HasAdminPassword {
		return s.AdminPassword, nil
	}
	// SpaceONE wants upper- and lower-case letters, a digit and a symbol in a password; the
	// Secret holds the password exactly as the user types it at the login.
	shape := func(pw string) string { return pw[:24] + "!aA7" }
	g, err := credentials.NewShaped(ctx, "admin-password", AdminSecret, core.Metadata.Name().Elem(),
		kube.Labels(catalog.WorkloadInitializer, "credentials", ""), []string{"password"}, s.CredentialSeed, shape,
		pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{core}))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return g.Value("password"), nil
}

// KeySecretNamespaces are the namespaces of the key's Secrets (hand-off "secret"): wherever a
// consumer runs, the services' namespace and, with the supervisor, its own. up makes them and
// looks for them there (a lost key).
func KeySecretNamespaces(s *settings.Settings) []string {
	if s.SupervisorEnabled() {
		return []string{s.Namespace, s.PluginNamespace}
	}
	return []string{s.Namespace}
}

// keyGeneration is what the token consumers' pods carry of the key they read: a new value
// restarts them after the initializer. It changes with a rotation asked for, with a restore
// (the initializer then finds the restored key, or makes a new one) and with a repair of a
// lost key.
func keyGeneration(s *settings.Settings, plan *Plan) string {
	g := s.Initializer.RotateAPIKey
	if s.Restore != "" {
		g += "+restored:" + s.Restore
	}
	if plan.KeyRepair != "" {
		g += "+repaired:" + plan.KeyRepair
	}
	return g
}

// deployInitializer runs the initializer once what it calls is ready; what waits for the key
// it hands over (the token consumers) comes after it in the start order, so the first
// install has no crash loops and no manual step.
func (p *Platform) deployInitializer(ctx *pulumi.Context, args *Args, core, plugins *corev1.Namespace) error {
	s := args.Settings
	rel := args.Plan.Release
	var err error
	if p.AdminPassword, err = p.adminPassword(ctx, args, core); err != nil {
		return err
	}
	endpoints := map[string]string{}
	for _, sp := range args.Plan.Services {
		endpoints[sp.Name] = fmt.Sprintf("grpc://%s:%d", sp.Name, catalog.GRPCPort) // each service's Service
	}
	waitFor, err := p.started.waits(catalog.WorkloadInitializer)
	if err != nil {
		return err
	}
	registrations, err := pluginRegistrations(s)
	if err != nil {
		return err
	}
	ia := &initializer.Args{
		Namespace: core.Metadata.Name().Elem(),
		Image:     kube.Image(rel.Spacectl.Repository, rel.Spacectl.Tag, s.Images.Registry), Tag: rel.Spacectl.Tag,
		PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
		Endpoints: endpoints, KeyHandoff: rel.APIKey.Handoff,
		Domain: s.Domain, AdminUser: s.AdminUser, AdminPassword: p.AdminPassword, APIUser: "root_api_key",
		MarketplaceToken: s.MarketplaceToken, HasMarketplaceToken: s.HasMarketplaceToken,
		MarketplaceEndpoint: fmt.Sprintf("grpc://repository.portal.spaceone.dev:%d", catalog.GRPCPort),
		TimeoutMinutes:      s.Initializer.TimeoutMinutes,
		KeyRotation:         s.Initializer.RotateAPIKey,
		Restored:            s.Restore,
		Repair:              args.Plan.KeyRepair,
		Plugins:             registrations,
		Waits:               waitFor,
	}
	switch rel.APIKey.Handoff {
	case catalog.HandoffConsul:
		ia.Consul = fmt.Sprintf("%s:%d", p.Consul.Endpoint.Host, p.Consul.Endpoint.Port)
	case catalog.HandoffSecret:
		byName := map[string]pulumi.StringInput{s.Namespace: core.Metadata.Name().Elem(), s.PluginNamespace: plugins.Metadata.Name().Elem()}
		var consumers []apikey.Namespace
		for _, ns := range KeySecretNamespaces(s) {
			consumers = append(consumers, apikey.Namespace{Name: ns, NS: byName[ns]})
		}
		if p.KeyHandoff, err = apikey.New(ctx, "api-key", &apikey.Args{
			Namespace: core.Metadata.Name().Elem(), Consumers: consumers, Labels: kube.Labels(catalog.WorkloadInitializer, "api-key", rel.Spacectl.Tag),
			Repair: args.Plan.KeyRepair,
		}, pulumi.Parent(p)); err != nil {
			return fmt.Errorf("api key hand-off: %w", err)
		}
		ia.KeySecrets, ia.ServiceAccount = p.KeyHandoff.Secrets, p.KeyHandoff.ServiceAccount
		ia.Waits.Resources = append(slices.Clone(ia.Waits.Resources), p.KeyHandoff.Ready...)
	}
	p.Images[catalog.WorkloadInitializer] = ia.Image
	if p.Initializer, err = initializer.New(ctx, catalog.WorkloadInitializer, ia, pulumi.Parent(p)); err != nil {
		return fmt.Errorf("initializer: %w", err)
	}
	p.started.add(catalog.WorkloadInitializer, p.Initializer.Job)
	return nil
}

// deploySupervisor deploys the supervisor, which installs the plugins in their namespace.
func (p *Platform) deploySupervisor(ctx *pulumi.Context, args *Args, plugins *corev1.Namespace) error {
	s := args.Settings
	rel := args.Plan.Release
	supervisorWaits, err := p.started.waits(catalog.WorkloadSupervisor)
	if err != nil {
		return err
	}
	sa := &supervisor.Args{
		Namespace: plugins.Metadata.Name().Elem(), NamespaceName: s.PluginNamespace, CoreNamespace: s.Namespace,
		Image: kube.Image(rel.Supervisor.Repository, rel.Supervisor.Tag, s.Images.Registry), Tag: rel.Supervisor.Tag,
		PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
		Replicas:   s.Supervisor.Replicas,
		Resources:  rel.Supervisor.Resources,
		Waits:      supervisorWaits,
		TokenReady: rel.TokenReady.Command,
	}
	sa.Redis.Host, sa.Redis.Port = p.Redis.Endpoint.Host, p.Redis.Endpoint.Port
	if p.Consul != nil {
		sa.Consul.Host, sa.Consul.Port = p.Consul.Endpoint.Host, p.Consul.Endpoint.Port
	}
	sa.KeyHandoff, sa.KeyRotation = rel.APIKey.Handoff, keyGeneration(s, args.Plan)
	p.Images[catalog.WorkloadSupervisor] = sa.Image
	if p.Supervisor, err = supervisor.New(ctx, catalog.WorkloadSupervisor, sa, pulumi.Parent(p)); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	p.started.add(catalog.WorkloadSupervisor, p.Supervisor.Deployment)
	return nil
}
