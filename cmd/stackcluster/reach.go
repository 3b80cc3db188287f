package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// reachTimeout bounds the API server's answer: `make up` must fail within seconds, not when
// the provider gives up.
const reachTimeout = 5 * time.Second

// reach tells, with the fix, why a local stack's cluster cannot be reached: its context named
// by no kubeconfig (KUBECONFIG's list, or ~/.kube/config, as kubectl reads them) or its API
// server not answering /readyz. An EKS stack's cluster is made by the program, and a stack with
// a kubeconfig of its own (the sim, started by make) is not checked: nil.
func reach(ctx context.Context, stack string, t target.Target) error {
	if t.Type != "local" || t.Kubeconfig != "" {
		return nil
	}
	fail := func(why string) error {
		return fmt.Errorf("stack '%s' deploys to kube context '%s', %s.\n"+
			"  start it with:   minikube start --cpus 4 --memory 8g\n"+
			"  or try the sim:  make up STACK=sim   (a local test control plane; no containers run)\n"+
			"  or point the stack at another context: pulumi config set kubeContext <name> --stack %s",
			stack, t.KubeContext, why, stack)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	kubeconfig, err := rules.Load()
	if err != nil {
		return fail(fmt.Sprintf("but the kubeconfig cannot be read (%v)", err))
	}
	if _, ok := kubeconfig.Contexts[t.KubeContext]; !ok {
		return fail("but no kubeconfig names that context")
	}
	config, err := clientcmd.NewDefaultClientConfig(*kubeconfig, &clientcmd.ConfigOverrides{CurrentContext: t.KubeContext}).ClientConfig()
	if err != nil {
		return fail(fmt.Sprintf("but its kubeconfig entry is unusable (%v)", err))
	}
	if err := readyz(ctx, config); err != nil {
		return fail(fmt.Sprintf("but its API server does not answer (%v)", err))
	}
	return nil
}

// readyz asks the API server whether it is ready, with the context's credentials.
func readyz(ctx context.Context, config *rest.Config) error {
	config.Timeout = reachTimeout
	client, err := rest.HTTPClientFor(config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, config.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}
