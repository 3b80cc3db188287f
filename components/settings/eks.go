package settings

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$`)
	k8sVersionPattern   = regexp.MustCompile(`^1\.[0-9]{2}$`)
	clusterNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$`)
	arnPattern          = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
)

// checkEKS validates the eks object and fills its defaults (a small team's cluster).
func (l *loader) checkEKS(e *EKS) {
	if e.Region == "" {
		if r, ok := l.src.GetConfig("aws:region"); ok {
			e.Region = r
		}
	}
	switch {
	case e.Region == "":
		l.fail("eks.region", "is required on EKS; set it, e.g. pulumi config set --path eks.region us-east-1")
	case !regionPattern.MatchString(e.Region):
		l.fail("eks.region", "%q is not an AWS region (e.g. us-east-1, eu-central-1)", e.Region)
	}
	if e.Name == "" {
		e.Name = "spaceone"
	}
	if !clusterNamePattern.MatchString(e.Name) {
		l.fail("eks.name", "%q is not an EKS cluster name (letters, digits, '-' and '_', at most 100)", e.Name)
	}
	if e.KubernetesVersion == "" {
		e.KubernetesVersion = "1.30"
	}
	if !k8sVersionPattern.MatchString(e.KubernetesVersion) {
		l.fail("eks.kubernetesVersion", "%q is not a pinned EKS Kubernetes version (e.g. \"1.30\")", e.KubernetesVersion)
	}
	if len(e.AvailabilityZones) == 0 && regionPattern.MatchString(e.Region) {
		e.AvailabilityZones = []string{e.Region + "a", e.Region + "b"}
	}
	if n := len(e.AvailabilityZones); n < 2 || n > 3 {
		l.fail("eks.availabilityZones", "lists %d zones; give 2 or 3 (EKS needs subnets in at least two)", n)
	}
	seen := map[string]bool{}
	for i, az := range e.AvailabilityZones {
		if !strings.HasPrefix(az, e.Region) || len(az) != len(e.Region)+1 {
			l.fail(fmt.Sprintf("eks.availabilityZones[%d]", i), "%q is not a zone of region %s (e.g. %sa)", az, e.Region, e.Region)
		}
		if seen[az] {
			l.fail(fmt.Sprintf("eks.availabilityZones[%d]", i), "%q is listed twice", az)
		}
		seen[az] = true
	}
	l.checkVPC(&e.VPC, len(e.AvailabilityZones))
	n := &e.Nodes
	if len(n.InstanceTypes) == 0 {
		n.InstanceTypes = []string{"t3.large"}
	}
	for i, t := range n.InstanceTypes {
		if !instanceTypePattern.MatchString(t) {
			l.fail(fmt.Sprintf("eks.nodes.instanceTypes[%d]", i), "%q is not an EC2 instance type (family.size, e.g. t3.large, m6i.xlarge)", t)
		}
	}
	if n.Min == 0 && n.Desired == 0 && n.Max == 0 {
		n.Min, n.Desired, n.Max = 2, 2, 4
	}
	if n.Desired == 0 {
		n.Desired = n.Min
	}
	switch {
	case n.Min < 1:
		l.fail("eks.nodes.min", "%d: a cluster needs at least 1 node", n.Min)
	case n.Min > n.Max:
		l.fail("eks.nodes.min", "%d is more than eks.nodes.max (%d); need min <= desired <= max", n.Min, n.Max)
	case n.Desired < n.Min || n.Desired > n.Max:
		l.fail("eks.nodes.desired", "%d is outside min..max (%d..%d)", n.Desired, n.Min, n.Max)
	case n.Max > 100:
		l.fail("eks.nodes.max", "%d is more than 100 nodes; this program is sized for small teams", n.Max)
	}
	if n.DiskSizeGiB == 0 {
		n.DiskSizeGiB = 50
	}
	if n.DiskSizeGiB < 20 || n.DiskSizeGiB > 1000 {
		l.fail("eks.nodes.diskSizeGiB", "%d is out of range; use 20 to 1000", n.DiskSizeGiB)
	}
	for i, c := range e.PublicAccessCidrs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			l.fail(fmt.Sprintf("eks.publicAccessCidrs[%d]", i), "%q is not a CIDR (e.g. 203.0.113.0/24)", c)
		}
	}
	if e.LoadBalancerControllerVersion == "" {
		e.LoadBalancerControllerVersion = "1.8.1"
	}
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(e.LoadBalancerControllerVersion) {
		l.fail("eks.loadBalancerControllerVersion", "%q is not a pinned chart version (e.g. 1.8.1)", e.LoadBalancerControllerVersion)
	}
}

func (l *loader) checkVPC(v *VPC, zones int) {
	if v.VpcID != "" {
		if !strings.HasPrefix(v.VpcID, "vpc-") {
			l.fail("eks.vpc.vpcId", "%q is not a VPC id (vpc-...)", v.VpcID)
		}
		if len(v.PrivateSubnetIDs) < 2 || len(v.PublicSubnetIDs) < 2 {
			l.fail("eks.vpc.privateSubnetIds", "an existing VPC needs at least two private and two public subnet ids (subnet-...)")
		}
		for i, id := range append(append([]string{}, v.PublicSubnetIDs...), v.PrivateSubnetIDs...) {
			if !strings.HasPrefix(id, "subnet-") {
				l.fail(fmt.Sprintf("eks.vpc subnet #%d", i), "%q is not a subnet id (subnet-...)", id)
			}
		}
		return
	}
	if v.CIDR == "" {
		v.CIDR = "10.0.0.0/16"
	}
	_, n, err := net.ParseCIDR(v.CIDR)
	if err != nil || n.IP.To4() == nil {
		l.fail("eks.vpc.cidr", "%q is not an IPv4 CIDR (e.g. 10.0.0.0/16)", v.CIDR)
	} else if ones, _ := n.Mask.Size(); ones < 16 || ones > 20 {
		l.fail("eks.vpc.cidr", "%q: use a prefix from /16 to /20, so each zone gets a public and a private subnet", v.CIDR)
	}
	if v.NATGateways == "" {
		v.NATGateways = "single"
	}
	if v.NATGateways != "single" && v.NATGateways != "perAz" {
		l.fail("eks.vpc.natGateways", "%q: use single (one NAT gateway, cheaper) or perAz (one per zone, survives a zone outage)", v.NATGateways)
	}
}
