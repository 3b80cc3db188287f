package platform

import (
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/frontend"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/microservice"
	"github.com/spaceone-pulumi/spaceone/components/settings"
	"github.com/spaceone-pulumi/spaceone/components/stores"
)

// dbUsers is one MongoDB user per service database.
func dbUsers(plan *Plan) []stores.DBUser {
	var users []stores.DBUser
	for _, sp := range plan.Services {
		if sp.Database == "" {
			continue
		}
		users = append(users, stores.DBUser{
			Service: sp.Name, Databases: sp.Databases(),
			Username: strings.ReplaceAll(sp.Name, "-", "_") + "_user",
		})
	}
	return users
}

// wiring is where each service finds the stores and the other services.
func (p *Platform) wiring(plan *Plan, domain string) microservice.Wiring {
	w := microservice.Wiring{
		Domain:     domain,
		Redis:      microservice.Endpoint{Host: p.Redis.Endpoint.Host, Port: p.Redis.Endpoint.Port},
		GRPC:       map[string]string{},
		KeyHandoff: plan.Release.APIKey.Handoff,
	}
	if p.Consul != nil {
		w.Consul = microservice.Endpoint{Host: p.Consul.Endpoint.Host, Port: p.Consul.Endpoint.Port}
	}
	for name := range plan.ByName {
		w.GRPC[name] = name // the Service is named after the service
	}
	return w
}

// deployService deploys one planned service, each variant waiting for what the start order
// says (most wait for nothing).
func (p *Platform) deployService(ctx *pulumi.Context, args *Args, core *corev1.Namespace, sp *ServicePlan) error {
	s := args.Settings
	w := p.wiring(args.Plan, s.Domain)
	configs := map[string]string{}
	for _, v := range sp.Variants {
		c, err := microservice.RenderConfig(sp.Service, v, w, sp.Extra)
		if err != nil {
			return fmt.Errorf("spaceone:services.%s: %w", sp.Name, err)
		}
		configs[v] = c
	}
	waitFor := map[string]kube.Waits{}
	if sp.Local == nil {
		for _, v := range sp.Variants {
			var err error
			if waitFor[v], err = p.started.waits(catalog.WorkloadName(sp.Name, v)); err != nil {
				return err
			}
		}
	}
	ma := &microservice.Args{
		Local:    sp.Local,
		NodePort: devNodePort(s, sp),
		Service:  sp.Service, Namespace: core.Metadata.Name().Elem(), Image: sp.Image,
		Variants: sp.Variants, Replicas: sp.Replicas, Resources: sp.Resources,
		PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
		Configs: configs, WaitFor: waitFor, TokenReady: args.Plan.Release.TokenReady,
		KeyHandoff: args.Plan.Release.APIKey.Handoff, KeyRotation: keyGeneration(s, args.Plan),
	}
	if sp.Database != "" {
		ma.HasDB = true
		user := p.MongoDB.Username(sp.Name)
		svc := sp.Service
		mongo := microservice.Endpoint{Host: p.MongoDB.Endpoint.Host, Port: p.MongoDB.Endpoint.Port}
		ma.Database = pulumi.ToSecret(p.MongoDB.Password(sp.Name).ApplyT(func(pw string) (string, error) {
			return microservice.RenderDatabase(svc, mongo, user, pw)
		})).(pulumi.StringOutput)
	}
	m, err := microservice.New(ctx, sp.Name, ma, pulumi.Parent(p))
	if err != nil {
		return fmt.Errorf("service %s: %w", sp.Name, err)
	}
	p.Services[sp.Name] = m
	for v, d := range m.Deployments {
		p.started.add(catalog.WorkloadName(sp.Name, v), d)
	}
	if d := m.Deployments["grpc"]; d != nil {
		p.started.add(sp.Name, m.Service) // callers reach it by its Service
	}
	return nil
}

// deployFrontend deploys console and console-api once the backend services are up.
func (p *Platform) deployFrontend(ctx *pulumi.Context, args *Args, core *corev1.Namespace) error {
	s := args.Settings
	rel := args.Plan.Release
	console, api := rel.Frontend[catalog.WorkloadConsole], rel.Frontend[catalog.WorkloadConsoleAPI]
	fa := &frontend.Args{
		Namespace:       core.Metadata.Name().Elem(),
		ConsoleImage:    kube.Image(console.Repository, console.Tag, s.Images.Registry),
		ConsoleAPIImage: kube.Image(api.Repository, api.Tag, s.Images.Registry),
		ConsoleTag:      console.Tag, ConsoleAPITag: api.Tag,
		ConsoleConfig: console.Config, APIConfig: api.Config,
		PullPolicy: s.Images.PullPolicy, PullSecrets: s.Images.PullSecrets,
		APIURL: s.ConsoleAPIURL(), Domain: s.Domain,
		Backends: p.wiring(args.Plan, s.Domain).GRPC,
	}
	fa.Redis.Host, fa.Redis.Port = p.Redis.Endpoint.Host, p.Redis.Endpoint.Port
	p.Images[catalog.WorkloadConsole], p.Images[catalog.WorkloadConsoleAPI] = fa.ConsoleImage, fa.ConsoleAPIImage
	switch s.Console.Expose {
	case "nodePort":
		fa.ConsoleNodePort, fa.APINodePort = s.Console.NodePort, s.Console.APINodePort
	case "ingress":
		class := s.Console.IngressClass
		if class == "" {
			class = args.Cluster.Capabilities().IngressClass
		}
		if class == "" {
			class = "nginx" // minikube's ingress addon
		}
		fa.Ingress = &frontend.Ingress{Class: class, Host: s.Console.Host, APIHost: s.Console.APIHost, TLSSecret: s.Console.TLSSecret}
		if class == "alb" {
			// ALB: internet-facing, health check on the apps' /check, HTTPS when a certificate is given.
			fa.Ingress.Annotations = map[string]string{
				"alb.ingress.kubernetes.io/scheme":           "internet-facing",
				"alb.ingress.kubernetes.io/target-type":      "ip",
				"alb.ingress.kubernetes.io/healthcheck-path": "/check",
				"alb.ingress.kubernetes.io/group.name":       "spaceone",
			}
			if arn := s.Console.CertificateARN; arn != "" {
				fa.Ingress.Annotations["alb.ingress.kubernetes.io/certificate-arn"] = arn
				fa.Ingress.Annotations["alb.ingress.kubernetes.io/listen-ports"] = `[{"HTTP": 80}, {"HTTPS": 443}]`
				fa.Ingress.Annotations["alb.ingress.kubernetes.io/ssl-redirect"] = "443"
			}
		}
	}
	var err error
	if fa.ConsoleWaits, err = p.started.waits(catalog.WorkloadConsole); err != nil {
		return err
	}
	if fa.APIWaits, err = p.started.waits(catalog.WorkloadConsoleAPI); err != nil {
		return err
	}
	p.Frontend, err = frontend.New(ctx, catalog.FrontendComponent, fa, pulumi.Parent(p))
	if err != nil {
		return fmt.Errorf("frontend: %w", err)
	}
	p.started.add(catalog.WorkloadConsole, p.Frontend.Console)
	p.started.add(catalog.WorkloadConsoleAPI, p.Frontend.API)
	return nil
}

func devNodePort(s *settings.Settings, sp *ServicePlan) int {
	if s.Dev.Expose == "nodePort" {
		return sp.DevNodePort()
	}
	return 0
}
