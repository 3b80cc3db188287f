// Package frontend deploys the web console (an nginx-served single-page app) and console-api
// (the Node.js gateway the browser calls, which speaks gRPC to the backend services).
package frontend

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// Args configures the frontend.
type Args struct {
	Namespace                 pulumi.StringInput
	ConsoleImage              string // full references, pinned
	ConsoleAPIImage           string
	ConsoleTag, ConsoleAPITag string
	PullPolicy                string
	PullSecrets               []string
	// APIURL is console-api as the browser reaches it (port-forward, NodePort or ingress host).
	APIURL string
	// Domain is the SpaceONE domain the sign-in page logs in to.
	Domain string
	// Backends maps each deployed gRPC service to its host (the Service name).
	Backends map[string]string
	Redis    struct {
		Host string
		Port int
	}
	// NodePorts, when set, expose console and console-api on fixed node ports.
	ConsoleNodePort, APINodePort int
	// Ingress, when set, routes Host to console and APIHost to console-api.
	Ingress *Ingress
	// ConsoleConfig and APIConfig are the release's additions to each app's production.json.
	ConsoleConfig, APIConfig map[string]any
	// ConsoleWaits and APIWaits are what each waits for at a first install (the platform's
	// start order; nothing by default: console-api connects to the services per request).
	ConsoleWaits, APIWaits kube.Waits
}

// Ingress exposes console and console-api by host name.
type Ingress struct {
	Class         string // IngressClass: nginx (minikube addon), alb (EKS)
	Host, APIHost string
	TLSSecret     string // optional kubernetes.io/tls Secret for both hosts
	Annotations   map[string]string
}

// Frontend is console plus console-api.
type Frontend struct {
	pulumi.ResourceState
	ConsoleService, APIService *corev1.Service
	Console, API               *appsv1.Deployment
	Ingress                    *networkingv1.Ingress
}

// New deploys both.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Frontend, error) {
	f := &Frontend{}
	if err := ctx.RegisterComponentResource("spaceone:frontend:Frontend", name, f, opts...); err != nil {
		return nil, err
	}
	consoleJSON, err := json.MarshalIndent(catalog.Merge(map[string]any{
		"CONSOLE_API":      map[string]any{"ENDPOINT": args.APIURL},
		"DOMAIN_NAME_REF":  "config", // any value but "hostname": sign in to DOMAIN_NAME
		"DOMAIN_NAME":      args.Domain,
		"GTAG_ID":          "DISABLED",
		"GTM_ID":           "DISABLED",
		"MOCK":             map[string]any{"ALL": false, "ENDPOINT": ""},
		"AMCHARTS_LICENSE": map[string]any{"CHARTS": "", "MAPS": "", "TIMELINE": ""},
		"ASSET_PATH":       map[string]any{},
		"DOMAIN_IMAGE":     map[string]any{},
	}, withAPIURL(args.ConsoleConfig, args.APIURL)), "", "  ")
	if err != nil {
		return nil, err
	}
	endpoints := map[string]string{}
	names := make([]string, 0, len(args.Backends))
	for n := range args.Backends {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		endpoints[strings.ReplaceAll(n, "-", "_")] = fmt.Sprintf("grpc://%s:%d/v1", args.Backends[n], catalog.GRPCPort)
	}
	apiJSON, err := json.MarshalIndent(catalog.Merge(map[string]any{
		"cors":      []string{"http://*", "https://*"},
		"endpoints": endpoints,
		"redis":     map[string]any{"host": args.Redis.Host, "port": args.Redis.Port, "db": 15},
		"logger":    map[string]any{"handlers": []any{map[string]any{"type": "console", "level": "info"}}},
	}, withAPIURL(args.APIConfig, args.APIURL)), "", "  ")
	if err != nil {
		return nil, err
	}

	f.Console, f.ConsoleService, err = f.webApp(ctx, args, webApp{
		name: "console", image: args.ConsoleImage, tag: args.ConsoleTag, port: 80, servicePort: 80,
		configPath: "/var/www/config/production.json", config: string(consoleJSON), nodePort: args.ConsoleNodePort, waits: args.ConsoleWaits,
		// nginx binds port 80 and switches to its worker user: it keeps its default capabilities.
		security:  &corev1.SecurityContextArgs{AllowPrivilegeEscalation: pulumi.Bool(false)},
		resources: kube.Resources("20m", "32Mi", "500m", "128Mi"),
	})
	if err != nil {
		return nil, err
	}
	// Node listens on 3000 itself; the upstream chart's nginx sidecar only rewrote cookies.
	f.API, f.APIService, err = f.webApp(ctx, args, webApp{
		name: "console-api", image: args.ConsoleAPIImage, tag: args.ConsoleAPITag, port: 3000, servicePort: 80,
		configPath: "/opt/spaceone/wconsole-server/config/production.json", config: string(apiJSON), nodePort: args.APINodePort, waits: args.APIWaits,
		security:  kube.RestrictedContainer(),
		resources: kube.Resources("50m", "128Mi", "1", "512Mi"),
	})
	if err != nil {
		return nil, err
	}
	if args.Ingress != nil {
		if f.Ingress, err = f.ingress(ctx, args); err != nil {
			return nil, err
		}
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"apiURL": pulumi.String(args.APIURL)})
}

func (f *Frontend) ingress(ctx *pulumi.Context, args *Args) (*networkingv1.Ingress, error) {
	in := args.Ingress
	rule := func(host, service string) networkingv1.IngressRuleArgs {
		return networkingv1.IngressRuleArgs{
			Host: pulumi.String(host),
			Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
				Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
				Backend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
					Name: pulumi.String(service), Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String("http")},
				}},
			}}},
		}
	}
	spec := &networkingv1.IngressSpecArgs{
		IngressClassName: pulumi.String(in.Class),
		Rules:            networkingv1.IngressRuleArray{rule(in.Host, "console"), rule(in.APIHost, "console-api")},
	}
	if in.TLSSecret != "" {
		spec.Tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
			Hosts: pulumi.StringArray{pulumi.String(in.Host), pulumi.String(in.APIHost)}, SecretName: pulumi.String(in.TLSSecret),
		}}
	}
	meta := kube.Meta("console", args.Namespace, kube.Labels("console", "frontend", args.ConsoleTag))
	for k, v := range in.Annotations {
		meta.Annotations.(pulumi.StringMap)[k] = pulumi.String(v)
	}
	ing, err := networkingv1.NewIngress(ctx, "console", &networkingv1.IngressArgs{Metadata: meta, Spec: spec},
		pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{f.ConsoleService, f.APIService}))
	if err != nil {
		return nil, fmt.Errorf("creating ingress: %w", err)
	}
	return ing, nil
}

type webApp struct {
	name, image, tag   string
	port, servicePort  int
	configPath, config string
	nodePort           int
	security           *corev1.SecurityContextArgs
	resources          *corev1.ResourceRequirementsArgs
	waits              kube.Waits
}

func (f *Frontend) webApp(ctx *pulumi.Context, args *Args, w webApp) (*appsv1.Deployment, *corev1.Service, error) {
	labels := kube.Labels(w.name, "frontend", w.tag)
	parent := pulumi.Parent(f)
	file := w.configPath[strings.LastIndex(w.configPath, "/")+1:]
	cm, err := corev1.NewConfigMap(ctx, w.name+"-config", &corev1.ConfigMapArgs{
		Metadata:  kube.Managed(&metav1.ObjectMetaArgs{Namespace: args.Namespace, Labels: labels}),
		Immutable: pulumi.Bool(true),
		Data:      pulumi.StringMap{file: pulumi.String(w.config)},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s config: %w", w.name, err)
	}
	probe := func(period, failures int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String("/check"), Port: pulumi.String("http")},
			PeriodSeconds: pulumi.Int(period), FailureThreshold: pulumi.Int(failures), TimeoutSeconds: pulumi.Int(5),
		}
	}
	d, err := kube.Deployment(ctx, kube.Workload{
		Name: w.name, Namespace: args.Namespace, Labels: labels, Replicas: 1, PullSecrets: args.PullSecrets, Waits: w.waits,
		Volumes: corev1.VolumeArray{corev1.VolumeArgs{
			Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name().Elem()},
		}},
		Container: corev1.ContainerArgs{
			Name:            pulumi.String(w.name),
			Image:           pulumi.String(w.image),
			ImagePullPolicy: pulumi.String(args.PullPolicy),
			Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(w.port)}},
			VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
				Name: pulumi.String("config"), MountPath: pulumi.String(w.configPath), SubPath: pulumi.String(file), ReadOnly: pulumi.Bool(true),
			}},
			StartupProbe:   probe(5, 60),
			ReadinessProbe: probe(10, 3),
			// Liveness only asks whether the server accepts connections; readiness asks the app.
			LivenessProbe: &corev1.ProbeArgs{
				TcpSocket:     &corev1.TCPSocketActionArgs{Port: pulumi.String("http")},
				PeriodSeconds: pulumi.Int(20), FailureThreshold: pulumi.Int(3),
			},
			Resources:       w.resources,
			SecurityContext: w.security,
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{cm}))
	if err != nil {
		return nil, nil, err
	}
	port := corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(w.servicePort), TargetPort: pulumi.String("http")}
	s, err := corev1.NewService(ctx, w.name, &corev1.ServiceArgs{
		Metadata: kube.ServiceMeta(w.name, args.Namespace, labels), Spec: kube.ServiceSpec(w.name, port, w.nodePort),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating service %s: %w", w.name, err)
	}
	return d, s, nil
}

// withAPIURL is a release's config for an app with ${consoleApiUrl} replaced.
func withAPIURL(cfg map[string]any, url string) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		switch x := v.(type) {
		case map[string]any:
			out[k] = withAPIURL(x, url)
		case string:
			out[k] = strings.ReplaceAll(x, "${consoleApiUrl}", url)
		default:
			out[k] = v
		}
	}
	return out
}
