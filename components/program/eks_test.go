package program

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/testkit"
)

const fakeKubeconfig = `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"spaceone","cluster":{"server":"https://FAKE.gr7.us-east-1.eks.amazonaws.com"}}]}`

// eksMocks stands in for AWS and for pulumi-eks' remote (Node.js) Cluster component.
func eksMocks() *testkit.Mocks {
	arn := func(kind string) func(pulumi.MockResourceArgs) resource.PropertyMap {
		return func(a pulumi.MockResourceArgs) resource.PropertyMap {
			return resource.PropertyMap{
				"arn":  resource.NewStringProperty("arn:aws:iam::123456789012:" + kind + "/" + a.Name),
				"name": resource.NewStringProperty(a.Name),
			}
		}
	}
	return &testkit.Mocks{
		Outputs: map[string]func(pulumi.MockResourceArgs) resource.PropertyMap{
			"eks:index:Cluster": func(pulumi.MockResourceArgs) resource.PropertyMap {
				return resource.PropertyMap{"kubeconfigJson": resource.NewStringProperty(fakeKubeconfig)}
			},
			"aws:iam/role:Role":     arn("role"),
			"aws:iam/policy:Policy": arn("policy"),
			"aws:iam/openIdConnectProvider:OpenIdConnectProvider": arn("oidc-provider"),
			// S3 completes a bucketPrefix to a unique name.
			"aws:s3/bucketV2:BucketV2": func(a pulumi.MockResourceArgs) resource.PropertyMap {
				name := a.Inputs["bucketPrefix"].StringValue() + "20261207000000000001"
				return resource.PropertyMap{"bucket": resource.NewStringProperty(name), "arn": resource.NewStringProperty("arn:aws:s3:::" + name)}
			},
		},
		Invokes: map[string]func(pulumi.MockCallArgs) resource.PropertyMap{
			"aws:eks/getCluster:getCluster": func(pulumi.MockCallArgs) resource.PropertyMap {
				return resource.NewPropertyMapFromMap(map[string]any{"identities": []any{map[string]any{
					"oidcs": []any{map[string]any{"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/FAKE"}}}}})
			},
		},
	}
}

func eksConfig() testkit.Config {
	return testkit.Config{
		"clusterType": "eks",
		"eks": map[string]any{
			"region":            "us-east-1",
			"availabilityZones": []string{"us-east-1a", "us-east-1b", "us-east-1c"},
			"nodes":             map[string]any{"instanceTypes": []string{"m6i.large"}, "min": 2, "desired": 3, "max": 5},
		},
		"console": map[string]any{"expose": "ingress", "host": "console.example.com", "apiHost": "api.example.com",
			"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2a1b-aaaa-bbbb-cccc-123456789012"},
	}
}

func runEKS(t *testing.T, cfg testkit.Config) *testkit.Mocks {
	t.Helper()
	m := eksMocks()
	if err := testkit.RunWith(m, Run, cfg); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEKSNetworkSpansTheZonesAndIsTagged(t *testing.T) {
	m := runEKS(t, eksConfig())
	subnets := m.OfType("aws:ec2/subnet:Subnet")
	if len(subnets) != 6 {
		t.Fatalf("%d subnets, want a public and a private one in each of 3 zones", len(subnets))
	}
	zones := map[string]int{}
	for _, s := range subnets {
		zones[s.String("availabilityZone")]++
		tags := s.Object("tags")
		if tags["kubernetes.io/cluster/spaceone"].StringValue() != "shared" {
			t.Errorf("subnet %s lacks the cluster tag", s.Name)
		}
		role := "kubernetes.io/role/internal-elb"
		if strings.Contains(s.Name, "-public-") {
			role = "kubernetes.io/role/elb"
		}
		if tags[resource.PropertyKey(role)].StringValue() != "1" {
			t.Errorf("subnet %s lacks %s=1", s.Name, role)
		}
	}
	for _, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		if zones[az] != 2 {
			t.Errorf("zone %s has %d subnets, want 2", az, zones[az])
		}
	}
	if n := len(m.OfType("aws:ec2/natGateway:NatGateway")); n != 1 {
		t.Errorf("%d NAT gateways, want 1 by default", n)
	}
	cfg := eksConfig()
	cfg["eks"].(map[string]any)["vpc"] = map[string]any{"natGateways": "perAz"}
	if n := len(runEKS(t, cfg).OfType("aws:ec2/natGateway:NatGateway")); n != 3 {
		t.Errorf("%d NAT gateways with natGateways=perAz, want 3", n)
	}
}

func TestEKSManagedNodeGroupInPrivateSubnetsSizedFromConfig(t *testing.T) {
	m := runEKS(t, eksConfig())
	cl := m.OfType("eks:index:Cluster")
	if len(cl) != 1 {
		t.Fatalf("%d eks clusters", len(cl))
	}
	if v := cl[0].Get("skipDefaultNodeGroup"); !v.IsBool() || !v.BoolValue() {
		t.Error("the eks v2 default node group (EC2 launch configurations) is not skipped")
	}
	if cl[0].String("version") != "1.30" {
		t.Errorf("kubernetes version = %q, want the pinned default 1.30", cl[0].String("version"))
	}
	ngs := m.OfType("aws:eks/nodeGroup:NodeGroup")
	if len(ngs) != 1 {
		t.Fatalf("%d managed node groups, want 1", len(ngs))
	}
	ng := ngs[0]
	sc := ng.Object("scalingConfig")
	if sc["minSize"].NumberValue() != 2 || sc["desiredSize"].NumberValue() != 3 || sc["maxSize"].NumberValue() != 5 {
		t.Errorf("scaling = %v, want 2/3/5", sc)
	}
	if it := ng.Array("instanceTypes"); len(it) != 1 || it[0].StringValue() != "m6i.large" {
		t.Errorf("instance types = %v", it)
	}
	subnets := ng.Array("subnetIds")
	if len(subnets) != 3 {
		t.Fatalf("node group in %d subnets, want 3", len(subnets))
	}
	for _, s := range subnets {
		if !strings.Contains(s.StringValue(), "-private-") {
			t.Errorf("node group subnet %s is not private", s.StringValue())
		}
	}
}

func TestEKSStorageAndIngressControllers(t *testing.T) {
	m := runEKS(t, eksConfig())
	var addon bool
	for _, a := range m.OfType("aws:eks/addon:Addon") {
		addon = addon || a.String("addonName") == "aws-ebs-csi-driver"
	}
	if !addon {
		t.Error("no aws-ebs-csi-driver add-on")
	}
	sc := m.OfType("kubernetes:storage.k8s.io/v1:StorageClass")
	if len(sc) != 1 || sc[0].KubeName() != "gp3" || sc[0].String("provisioner") != "ebs.csi.aws.com" || sc[0].Object("parameters")["type"].StringValue() != "gp3" {
		t.Fatalf("no gp3 StorageClass on the EBS CSI driver: %v", sc)
	}
	if sc[0].String("reclaimPolicy") != "Retain" {
		t.Errorf("eks keeps volumes by default; reclaimPolicy = %q", sc[0].String("reclaimPolicy"))
	}
	mongo := m.Find(stateful, "mongodb")
	claim := mongo.Array("spec.volumeClaimTemplates")[0].ObjectValue()["spec"].ObjectValue()["storageClassName"].StringValue()
	if claim != "gp3" {
		t.Errorf("mongodb claims storage class %q, want gp3", claim)
	}
	rel := m.OfType("kubernetes:helm.sh/v3:Release")
	if len(rel) != 1 || rel[0].String("chart") != "aws-load-balancer-controller" || rel[0].String("version") == "" {
		t.Fatalf("no pinned aws-load-balancer-controller release: %v", rel)
	}
	ing := m.Find("kubernetes:networking.k8s.io/v1:Ingress", "console")
	if ing == nil || ing.String("spec.ingressClassName") != "alb" {
		t.Fatal("no alb Ingress for the console")
	}
	if !strings.HasPrefix(ing.Object("metadata.annotations")["alb.ingress.kubernetes.io/certificate-arn"].StringValue(), "arn:aws:acm:") {
		t.Error("the ACM certificate is not on the ALB ingress")
	}
	// Namespaces (and so every object in them) come after the controller and the StorageClass,
	// and are deleted before them.
	for _, ns := range m.OfType("kubernetes:core/v1:Namespace") {
		deps := strings.Join(ns.Deps, " ")
		if !strings.Contains(deps, "helm.sh/v3:Release") || !strings.Contains(deps, "StorageClass") {
			t.Errorf("namespace %s does not depend on the controller and the StorageClass: %v", ns.KubeName(), ns.Deps)
		}
	}
}

func TestEKSEveryKubernetesResourceUsesTheClusterKubeconfig(t *testing.T) {
	m := runEKS(t, eksConfig())
	providers := m.OfType("pulumi:providers:kubernetes")
	if len(providers) != 1 {
		t.Fatalf("%d kubernetes providers, want 1", len(providers))
	}
	p := providers[0]
	if p.String("kubeconfig") != fakeKubeconfig {
		t.Errorf("provider kubeconfig = %q, want the cluster's", p.String("kubeconfig"))
	}
	if !strings.Contains(strings.Join(p.Deps, " "), "aws:eks/nodeGroup:NodeGroup") {
		t.Error("the kubernetes provider does not wait for the node group")
	}
	n := 0
	for _, r := range m.Resources {
		if r.Custom && strings.HasPrefix(r.Type, "kubernetes:") {
			n++
			if !strings.Contains(r.Provider, "pulumi:providers:kubernetes::eks::") {
				t.Errorf("%s %s uses provider %q", r.Type, r.Name, r.Provider)
			}
		}
		if r.Custom && strings.HasPrefix(r.Type, "aws:") && !strings.Contains(r.Provider, "pulumi:providers:aws::aws::") {
			t.Errorf("%s %s uses provider %q, want the explicit aws provider", r.Type, r.Name, r.Provider)
		}
	}
	if n < 50 {
		t.Errorf("only %d kubernetes resources on EKS", n)
	}
}

func TestLocalStackCreatesNoAWSResource(t *testing.T) {
	m := run(t, simConfig())
	for _, r := range m.Resources {
		if strings.HasPrefix(r.Type, "aws:") || strings.HasPrefix(r.Type, "eks:") || strings.HasPrefix(r.Type, "pulumi:providers:aws") {
			t.Errorf("local stack registered %s %s", r.Type, r.Name)
		}
	}
}

func TestBadEKSConfigIsRefusedBeforeAnyResource(t *testing.T) {
	cases := []struct {
		name string
		eks  map[string]any
		key  string
	}{
		{"no region", map[string]any{}, "spaceone:eks.region"},
		{"min above max", map[string]any{"region": "us-east-1", "nodes": map[string]any{"min": 5, "max": 3}}, "spaceone:eks.nodes.min"},
		{"unknown instance type", map[string]any{"region": "us-east-1", "nodes": map[string]any{"instanceTypes": []string{"large"}}}, "spaceone:eks.nodes.instanceTypes[0]"},
		{"one zone", map[string]any{"region": "us-east-1", "availabilityZones": []string{"us-east-1a"}}, "spaceone:eks.availabilityZones"},
		{"zone of another region", map[string]any{"region": "us-east-1", "availabilityZones": []string{"us-east-1a", "eu-west-1b"}}, "spaceone:eks.availabilityZones[1]"},
		{"bad region", map[string]any{"region": "useast1"}, "spaceone:eks.region"},
		{"unpinned kubernetes", map[string]any{"region": "us-east-1", "kubernetesVersion": "latest"}, "spaceone:eks.kubernetesVersion"},
		{"bad vpc cidr", map[string]any{"region": "us-east-1", "vpc": map[string]any{"cidr": "10.0.0.0/24"}}, "spaceone:eks.vpc.cidr"},
		{"bad nat mode", map[string]any{"region": "us-east-1", "vpc": map[string]any{"natGateways": "none"}}, "spaceone:eks.vpc.natGateways"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := eksMocks()
			err := testkit.RunWith(m, Run, testkit.Config{"clusterType": "eks", "eks": c.eks})
			if err == nil || !strings.Contains(err.Error(), c.key+":") {
				t.Fatalf("err = %v, want one naming %s", err, c.key)
			}
			for _, r := range m.Resources {
				if r.Type != "pulumi:pulumi:Stack" {
					t.Errorf("registered %s %s despite invalid config", r.Type, r.Name)
				}
			}
		})
	}
}
