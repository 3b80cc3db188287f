//go:build noeks

package cluster

import (
	"errors"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// This build leaves EKS out (-tags noeks): the AWS and pulumi-eks SDKs are most of the
// program's build time and memory, and a local cluster needs none of them. `make up` builds
// this way for every stack whose clusterType is not eks; a plain `go build` includes EKS.

// Eks stands in for the EKS cluster in a build without it; NewEks refuses to make one.
type Eks struct {
	pulumi.ResourceState
	Kubeconfig pulumi.StringOutput
}

// NewEks refuses: this program was built without the AWS SDKs.
func NewEks(*pulumi.Context, string, *EksArgs, ...pulumi.ResourceOption) (*Eks, error) {
	return nil, errors.New("spaceone:clusterType: eks needs the AWS SDKs, and this program was built without them " +
		"(GOFLAGS=-tags=noeks, which make up sets for local stacks): unset GOFLAGS, or run make up STACK=<your eks stack>")
}

// Provider is never reached: NewEks makes no Eks.
func (c *Eks) Provider() *kubernetes.Provider { return nil }

// Capabilities is never reached: NewEks makes no Eks.
func (c *Eks) Capabilities() Capabilities { return Capabilities{} }
