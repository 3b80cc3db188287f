//go:build !noeks

package cluster

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// Eks is an EKS cluster this program provisions: VPC, control plane (pulumi-eks), a managed
// node group in the private subnets, OIDC for IAM roles of service accounts, the EBS CSI
// add-on with a gp3 StorageClass, and the AWS Load Balancer Controller for ALB ingresses.
type Eks struct {
	pulumi.ResourceState
	provider *kubernetes.Provider
	caps     Capabilities

	Cluster    *eks.Cluster
	NodeGroup  *awseks.NodeGroup
	Kubeconfig pulumi.StringOutput // secret
}

// Managed IAM policies the nodes and the EBS CSI driver need.
const (
	policyWorker = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
	policyCNI    = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
	policyECR    = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	policyEBS    = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
)

// NewEks provisions the cluster and returns it with its Kubernetes provider.
func NewEks(ctx *pulumi.Context, name string, args *EksArgs, opts ...pulumi.ResourceOption) (*Eks, error) {
	e := args.Settings
	c := &Eks{caps: Capabilities{StorageClass: "gp3", IngressClass: "alb", LoadBalancers: true}}
	if args.StorageClass != "" {
		c.caps.StorageClass = args.StorageClass
	}
	if err := ctx.RegisterComponentResource("spaceone:cluster:Eks", name, c, opts...); err != nil {
		return nil, err
	}
	awsProvider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(e.Region)}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("creating aws provider: %w", err)
	}
	inAWS := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(awsProvider)}

	net, err := newNetwork(ctx, c, e, pulumi.Provider(awsProvider))
	if err != nil {
		return nil, err
	}
	nodeRole, err := iamRole(ctx, name+"-nodes", servicePrincipal("ec2.amazonaws.com"), []string{policyWorker, policyCNI, policyECR}, inAWS...)
	if err != nil {
		return nil, err
	}
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Name:                  pulumi.StringPtr(e.Name),
		Version:               pulumi.StringPtr(e.KubernetesVersion),
		VpcId:                 net.vpcID.ToStringOutput().ToStringPtrOutput(),
		PublicSubnetIds:       net.publicSubnets,
		PrivateSubnetIds:      net.privateSubnets,
		EndpointPublicAccess:  pulumi.BoolPtr(e.EndpointPublicAccess == nil || *e.EndpointPublicAccess),
		EndpointPrivateAccess: pulumi.BoolPtr(e.EndpointPrivateAccess == nil || *e.EndpointPrivateAccess),
		PublicAccessCidrs:     pulumi.ToStringArray(e.PublicAccessCidrs),
		// eks v2 builds its default node group from EC2 launch configurations, which accounts
		// created since late 2024 cannot use: skip it and add a managed node group below.
		SkipDefaultNodeGroup: boolPtr(true),
		InstanceRoles:        iam.RoleArray{nodeRole},
		Tags:                 pulumi.StringMap{kube.PartOfLabel: pulumi.String(kube.PartOf)},
	}, pulumi.Parent(c), pulumi.Providers(awsProvider), pulumi.DependsOn(net.ready))
	if err != nil {
		return nil, fmt.Errorf("creating eks cluster: %w", err)
	}
	c.Cluster = cluster
	// The cluster's name, known only once it exists (so everything below waits for it).
	clusterName := cluster.KubeconfigJson.ApplyT(func(string) string { return e.Name }).(pulumi.StringOutput)

	nodes, err := awseks.NewNodeGroup(ctx, name+"-nodes", &awseks.NodeGroupArgs{
		ClusterName:   clusterName,
		NodeRoleArn:   nodeRole.Arn,
		SubnetIds:     net.privateSubnets,
		InstanceTypes: pulumi.ToStringArray(e.Nodes.InstanceTypes),
		AmiType:       pulumi.String("AL2023_x86_64_STANDARD"),
		DiskSize:      pulumi.Int(e.Nodes.DiskSizeGiB),
		ScalingConfig: &awseks.NodeGroupScalingConfigArgs{
			MinSize: pulumi.Int(e.Nodes.Min), DesiredSize: pulumi.Int(e.Nodes.Desired), MaxSize: pulumi.Int(e.Nodes.Max),
		},
		Tags: pulumi.StringMap{kube.PartOfLabel: pulumi.String(kube.PartOf)},
	}, append(inAWS, pulumi.DependsOn([]pulumi.Resource{cluster}),
		// Scaling changes made by an operator or autoscaler are not drift.
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))...)
	if err != nil {
		return nil, fmt.Errorf("creating node group: %w", err)
	}
	c.NodeGroup = nodes

	// OIDC provider for IAM roles of service accounts (EBS CSI driver, load balancer controller).
	issuer := awseks.LookupClusterOutput(ctx, awseks.LookupClusterOutputArgs{Name: clusterName}, pulumi.Provider(awsProvider)).
		Identities().Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer()
	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-oidc", &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
	}, inAWS...)
	if err != nil {
		return nil, fmt.Errorf("creating oidc provider: %w", err)
	}
	if args.Backup != nil {
		if c.caps.Backups, err = backupBucket(ctx, name+"-backups", args.Backup, e.Region, oidc.Arn, issuer, inAWS...); err != nil {
			return nil, err
		}
	}
	ebsRole, err := iamRole(ctx, name+"-ebs-csi", serviceAccountTrust(oidc.Arn, issuer, serviceAccount("kube-system", "ebs-csi-controller-sa")), []string{policyEBS}, inAWS...)
	if err != nil {
		return nil, err
	}
	ebs, err := awseks.NewAddon(ctx, name+"-ebs-csi", &awseks.AddonArgs{
		ClusterName: clusterName, AddonName: pulumi.String("aws-ebs-csi-driver"),
		ServiceAccountRoleArn: ebsRole.Arn, ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
	}, append(inAWS, pulumi.DependsOn([]pulumi.Resource{nodes}))...)
	if err != nil {
		return nil, fmt.Errorf("creating ebs csi add-on: %w", err)
	}

	// Every Kubernetes object goes through this provider; it waits for the nodes, so on
	// destroy every object (PVCs, Ingresses, Services) is deleted before the nodes, the cluster
	// and the VPC, and the cloud resources they made go first.
	c.Kubeconfig = pulumi.ToSecret(cluster.KubeconfigJson).(pulumi.StringOutput)
	c.provider, err = kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{Kubeconfig: c.Kubeconfig},
		pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{nodes}))
	if err != nil {
		return nil, fmt.Errorf("creating kubernetes provider: %w", err)
	}
	inK8s := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(c.provider)}
	reclaim := "Delete"
	if args.KeepVolumes {
		reclaim = "Retain"
	}
	sc, err := storagev1.NewStorageClass(ctx, name+"-gp3", &storagev1.StorageClassArgs{
		Metadata:    kube.Managed(&metav1.ObjectMetaArgs{Name: pulumi.String("gp3")}),
		Provisioner: pulumi.String("ebs.csi.aws.com"),
		Parameters: pulumi.StringMap{"type": pulumi.String("gp3"), "fsType": pulumi.String("ext4"), "encrypted": pulumi.String("true"),
			// Marks the stack's volumes, so a later cluster of the same stack can find them.
			"tagSpecification_1": pulumi.String(stackTag + "=" + stackID(ctx))},
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		ReclaimPolicy:        pulumi.String(reclaim),
		AllowVolumeExpansion: pulumi.Bool(true),
	}, append(inK8s, pulumi.DependsOn([]pulumi.Resource{ebs}))...)
	if err != nil {
		return nil, fmt.Errorf("creating gp3 storage class: %w", err)
	}

	lbRole, err := iamRoleWithPolicy(ctx, name+"-lb-controller",
		serviceAccountTrust(oidc.Arn, issuer, serviceAccount("kube-system", "aws-load-balancer-controller")), pulumi.String(lbControllerPolicy), inAWS...)
	if err != nil {
		return nil, err
	}
	lb, err := helmv3.NewRelease(ctx, name+"-lb-controller", &helmv3.ReleaseArgs{
		Name:           pulumi.String("aws-load-balancer-controller"),
		Chart:          pulumi.String("aws-load-balancer-controller"),
		Version:        pulumi.String(e.LoadBalancerControllerVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String("https://aws.github.io/eks-charts")},
		Namespace:      pulumi.String("kube-system"),
		Values: pulumi.Map{
			"clusterName": clusterName,
			"region":      pulumi.String(e.Region),
			"vpcId":       net.vpcID,
			"serviceAccount": pulumi.Map{
				"create":      pulumi.Bool(true),
				"name":        pulumi.String("aws-load-balancer-controller"),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": lbRole.Arn},
			},
		},
	}, inK8s...)
	if err != nil {
		return nil, fmt.Errorf("installing the aws load balancer controller: %w", err)
	}
	// The platform depends on these, so its PVCs and Ingress are deleted while the CSI driver
	// and the controller that own their cloud resources still run.
	c.caps.Ready = []pulumi.Resource{sc, lb}
	if args.KeepVolumes {
		kept, err := findKept(ctx, args.Claims, pulumi.Provider(awsProvider))
		if err != nil {
			return nil, fmt.Errorf("spaceone:stores.keepVolumes: %w", err)
		}
		for _, k := range kept {
			pv, err := giveBack(ctx, name, c.caps.StorageClass, k, sc, inAWS, inK8s)
			if err != nil {
				return nil, err
			}
			c.caps.Ready = append(c.caps.Ready, pv)
		}
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"kubeconfig": c.Kubeconfig, "clusterName": clusterName})
}

// Provider is the Kubernetes provider built from the cluster's kubeconfig.
func (c *Eks) Provider() *kubernetes.Provider { return c.provider }

// Capabilities of EKS: gp3 volumes, ALB ingresses, LoadBalancer addresses.
func (c *Eks) Capabilities() Capabilities { return c.caps }

func servicePrincipal(service string) pulumi.StringInput {
	return pulumi.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service))
}

// serviceAccount is how a token of a Kubernetes service account names it (its "sub").
func serviceAccount(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// serviceAccountTrust lets exactly the service accounts named (serviceAccount) assume a
// role, with tokens of this cluster's OIDC issuer (IRSA).
func serviceAccountTrust(oidcArn, issuer pulumi.StringOutput, accounts ...string) pulumi.StringInput {
	return pulumi.All(oidcArn, issuer).ApplyT(func(v []any) (string, error) {
		host := strings.TrimPrefix(v[1].(string), "https://")
		var sub any = accounts
		if len(accounts) == 1 {
			sub = accounts[0]
		}
		doc := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Federated": v[0]}, "Action": "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				host + ":sub": sub,
				host + ":aud": "sts.amazonaws.com",
			}},
		}}}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
}

func iamRole(ctx *pulumi.Context, name string, trust pulumi.StringInput, policies []string, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{AssumeRolePolicy: trust}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", name, err)
	}
	for i, arn := range policies {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, append(opts, pulumi.Parent(role))...); err != nil {
			return nil, fmt.Errorf("attaching %s to %s: %w", arn, name, err)
		}
	}
	return role, nil
}

func iamRoleWithPolicy(ctx *pulumi.Context, name string, trust, policy pulumi.StringInput, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	p, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{Policy: policy}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating policy %s: %w", name, err)
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{AssumeRolePolicy: trust}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{Role: role.Name, PolicyArn: p.Arn},
		append(opts, pulumi.Parent(role))...); err != nil {
		return nil, err
	}
	return role, nil
}

// lbControllerPolicy is what the AWS Load Balancer Controller calls to run ALBs for Ingresses
// (written for this program from the controller's documented needs; narrow it further if
// your organisation requires).
const lbControllerPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"], "Resource": "*",
     "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
    {"Effect": "Allow", "Resource": "*", "Action": [
      "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
      "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
      "elasticloadbalancing:*",
      "acm:ListCertificates", "acm:DescribeCertificate",
      "iam:ListServerCertificates", "iam:GetServerCertificate",
      "cognito-idp:DescribeUserPoolClient",
      "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
      "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
      "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection"
    ]}
  ]
}`

func boolPtr(b bool) *bool { return &b }
