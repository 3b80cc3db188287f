// Command spaceone is the Pulumi program that deploys SpaceONE (Cloudforet) on Kubernetes:
// on minikube or any existing kube context, on the sim control plane, or on an EKS cluster
// it provisions. Which one is stack configuration (stacks/Pulumi.<stack>.yaml).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/program"
)

func main() {
	pulumi.Run(program.Run)
}
