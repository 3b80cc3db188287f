package platform

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// networkPolicies admit traffic to SpaceONE's pods only from SpaceONE's two namespaces, except
// the console and console-api, which browsers reach through an ingress, a NodePort or a
// port-forward (and every gRPC service and store when dev.expose is nodePort). On clusters
// whose network plugin ignores NetworkPolicy (minikube's default) they change nothing.
func (p *Platform) networkPolicies(ctx *pulumi.Context, args *Args, core, plugins *corev1.Namespace) error {
	s := args.Settings
	fromSpaceONE := networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
		From: networkingv1.NetworkPolicyPeerArray{
			networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
				MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(s.Namespace)}}},
			networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
				MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(s.PluginNamespace)}}},
		},
	}}
	anyone := networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{}}
	policy := func(name string, ns *corev1.Namespace, selector *metav1.LabelSelectorArgs, rules networkingv1.NetworkPolicyIngressRuleArray) error {
		_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
			Metadata: kube.Meta(name, ns.Metadata.Name().Elem(), kube.Labels(name, "network-policy", "")),
			Spec: &networkingv1.NetworkPolicySpecArgs{
				PodSelector: selector,
				PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
				Ingress:     rules,
			},
		}, pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{ns}))
		if err != nil {
			return fmt.Errorf("creating network policy %s: %w", name, err)
		}
		return nil
	}
	all := &metav1.LabelSelectorArgs{}
	if err := policy("spaceone-internal", core, all, fromSpaceONE); err != nil {
		return err
	}
	if err := policy("plugins-internal", plugins, all, fromSpaceONE); err != nil {
		return err
	}
	public := &metav1.LabelSelectorArgs{MatchExpressions: metav1.LabelSelectorRequirementArray{metav1.LabelSelectorRequirementArgs{
		Key: pulumi.String(kube.NameLabel), Operator: pulumi.String("In"),
		Values: pulumi.StringArray{pulumi.String(catalog.WorkloadConsole), pulumi.String(catalog.WorkloadConsoleAPI)},
	}}}
	if s.Dev.Expose == "nodePort" {
		public = all // a laptop reaches every service on its node port
	}
	return policy("spaceone-public", core, public, anyone)
}
