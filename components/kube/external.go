package kube

import (
	"fmt"
	"net"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	discoveryv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/discovery/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ServiceOptions go on every Service that may switch between in-cluster pods and an outside
// process: changing the type changes immutable fields, so the Service is replaced.
func ServiceOptions() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.ReplaceOnChanges([]string{"spec.type"}), pulumi.DeleteBeforeReplace(true)}
}

// OutsideSelector is the selector of a Service whose traffic goes outside the cluster: no pod
// carries it. Without a selector, Kubernetes' EndpointSlice controller stops syncing the
// Service but leaves the slice it made for the pods that served it before, so their addresses
// would stay ready beside the outside one (seen on the real proving ground: calls went to a
// deleted pod). With a selector that matches nothing it keeps syncing, its own slice empties,
// and the Service keeps its ClusterIP (a replaced Service would get a new one, which callers
// holding the old address learn only when they resolve the name again).
func OutsideSelector() pulumi.StringMap {
	return pulumi.StringMap{"spaceone.dev/served-from": pulumi.String("outside-the-cluster")}
}

// ExternalService keeps a Service's name and port while its traffic goes to host:targetPort
// outside the cluster (a developer's laptop): a Service that selects no pod (OutsideSelector)
// plus an EndpointSlice for an IP address, or an ExternalName Service (a DNS alias, so the port
// cannot change) for a name. Callers keep their config unchanged.
func ExternalService(ctx *pulumi.Context, name string, namespace pulumi.StringInput, labels pulumi.StringMap,
	portName string, port int, host string, targetPort int, opts ...pulumi.ResourceOption) (*corev1.Service, error) {
	opts = append(opts, ServiceOptions()...)
	if ip := net.ParseIP(host); ip == nil || ip.To4() == nil {
		svc, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
			Metadata: ServiceMeta(name, namespace, labels),
			Spec: &corev1.ServiceSpecArgs{
				Type:         pulumi.String("ExternalName"),
				ExternalName: pulumi.String(host),
				Ports:        corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String(portName), Port: pulumi.Int(port)}},
			},
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating external service %s: %w", name, err)
		}
		return svc, nil
	}
	svc, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: ServiceMeta(name, namespace, labels),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: OutsideSelector(),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String(portName), Port: pulumi.Int(port), TargetPort: pulumi.Int(targetPort),
			}},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating external service %s: %w", name, err)
	}
	sliceLabels := pulumi.StringMap{
		"kubernetes.io/service-name": pulumi.String(name),
		// Not the EndpointSlice controller's: it must leave this slice alone.
		"endpointslice.kubernetes.io/managed-by": pulumi.String("spaceone-pulumi"),
	}
	for k, v := range labels {
		sliceLabels[k] = v
	}
	if _, err := discoveryv1.NewEndpointSlice(ctx, name, &discoveryv1.EndpointSliceArgs{
		Metadata:    Managed(&metav1.ObjectMetaArgs{Name: pulumi.String(name + "-external"), Namespace: namespace, Labels: sliceLabels}),
		AddressType: pulumi.String("IPv4"),
		Endpoints:   discoveryv1.EndpointArray{discoveryv1.EndpointArgs{Addresses: pulumi.StringArray{pulumi.String(host)}}},
		Ports: discoveryv1.EndpointPortArray{discoveryv1.EndpointPortArgs{
			Name: pulumi.String(portName), Port: pulumi.Int(targetPort), Protocol: pulumi.String("TCP"),
		}},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{svc}))...); err != nil {
		return nil, fmt.Errorf("creating endpoint slice for %s: %w", name, err)
	}
	return svc, nil
}
