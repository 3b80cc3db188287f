//go:build !noeks

package cluster

import (
	"fmt"
	"net"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// network is the VPC the cluster runs in.
type network struct {
	vpcID          pulumi.StringInput
	publicSubnets  pulumi.StringArray
	privateSubnets pulumi.StringArray
	ready          []pulumi.Resource // NAT routes: nodes in private subnets need them to join
}

// SubnetCIDRs splits a VPC CIDR into equal blocks four bits longer: public subnets take the
// first blocks, private subnets start at block 8, one of each per zone.
func SubnetCIDRs(vpcCIDR string, zones int) (public, private []string, err error) {
	_, n, err := net.ParseCIDR(vpcCIDR)
	if err != nil {
		return nil, nil, err
	}
	ones, bits := n.Mask.Size()
	size := uint32(1) << uint(bits-ones-4)
	base := uint32(n.IP[0])<<24 | uint32(n.IP[1])<<16 | uint32(n.IP[2])<<8 | uint32(n.IP[3])
	block := func(i int) string {
		ip := base + uint32(i)*size
		return fmt.Sprintf("%d.%d.%d.%d/%d", ip>>24, ip>>16&0xff, ip>>8&0xff, ip&0xff, ones+4)
	}
	for i := 0; i < zones; i++ {
		public = append(public, block(i))
		private = append(private, block(8+i))
	}
	return public, private, nil
}

// newNetwork makes a VPC across the zones (public and private subnets tagged for Kubernetes
// load balancers, an internet gateway, NAT) or takes an existing one from config.
func newNetwork(ctx *pulumi.Context, parent pulumi.Resource, e settings.EKS, opts ...pulumi.ResourceOption) (*network, error) {
	if e.VPC.VpcID != "" {
		return &network{
			vpcID:          pulumi.String(e.VPC.VpcID),
			publicSubnets:  pulumi.ToStringArray(e.VPC.PublicSubnetIDs),
			privateSubnets: pulumi.ToStringArray(e.VPC.PrivateSubnetIDs),
		}, nil
	}
	opts = append(opts, pulumi.Parent(parent))
	clusterTag := "kubernetes.io/cluster/" + e.Name
	tags := func(name string, extra map[string]string) pulumi.StringMap {
		t := pulumi.StringMap{"Name": pulumi.String(e.Name + "-" + name), clusterTag: pulumi.String("shared")}
		for k, v := range extra {
			t[k] = pulumi.String(v)
		}
		return t
	}
	vpc, err := ec2.NewVpc(ctx, e.Name, &ec2.VpcArgs{
		CidrBlock: pulumi.String(e.VPC.CIDR), EnableDnsHostnames: pulumi.Bool(true), EnableDnsSupport: pulumi.Bool(true),
		Tags: tags("vpc", nil),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating vpc: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, e.Name, &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: tags("igw", nil)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, e.Name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags("public", nil),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating public route table: %w", err)
	}
	pubCIDRs, privCIDRs, err := SubnetCIDRs(e.VPC.CIDR, len(e.AvailabilityZones))
	if err != nil {
		return nil, fmt.Errorf("spaceone:eks.vpc.cidr: %w", err)
	}
	n := &network{vpcID: vpc.ID()}
	var nats []*ec2.NatGateway
	for i, az := range e.AvailabilityZones {
		pub, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%s", e.Name, az), &ec2.SubnetArgs{
			VpcId: vpc.ID(), CidrBlock: pulumi.String(pubCIDRs[i]), AvailabilityZone: pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(true),
			Tags:                tags("public-"+az, map[string]string{"kubernetes.io/role/elb": "1"}),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating public subnet in %s: %w", az, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%s", e.Name, az), &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: publicRT.ID(),
		}, opts...); err != nil {
			return nil, err
		}
		n.publicSubnets = append(n.publicSubnets, pub.ID())
		if i == 0 || e.VPC.NATGateways == "perAz" {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", e.Name, az), &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags("nat-"+az, nil)}, opts...)
			if err != nil {
				return nil, fmt.Errorf("creating NAT address in %s: %w", az, err)
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-%s", e.Name, az), &ec2.NatGatewayArgs{
				SubnetId: pub.ID(), AllocationId: eip.ID(), Tags: tags("nat-"+az, nil),
			}, append(opts, pulumi.DependsOn([]pulumi.Resource{igw}))...)
			if err != nil {
				return nil, fmt.Errorf("creating NAT gateway in %s: %w", az, err)
			}
			nats = append(nats, nat)
		}
		priv, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%s", e.Name, az), &ec2.SubnetArgs{
			VpcId: vpc.ID(), CidrBlock: pulumi.String(privCIDRs[i]), AvailabilityZone: pulumi.String(az),
			Tags: tags("private-"+az, map[string]string{"kubernetes.io/role/internal-elb": "1"}),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating private subnet in %s: %w", az, err)
		}
		nat := nats[len(nats)-1]
		rt, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%s", e.Name, az), &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
			Tags:   tags("private-"+az, nil),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating private route table in %s: %w", az, err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%s", e.Name, az), &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: rt.ID(),
		}, opts...)
		if err != nil {
			return nil, err
		}
		n.privateSubnets = append(n.privateSubnets, priv.ID())
		n.ready = append(n.ready, assoc)
	}
	return n, nil
}
