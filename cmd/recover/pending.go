package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
)

// finishPending finishes what the interrupted run left pending: the Kubernetes objects it was
// creating may exist already (generated credentials among them), so each is imported (one
// refresh each: an object the run never got to create must not stop the others); then every
// pending operation left is dropped. The next up re-applies those objects (server-side apply
// adopts what exists).
func finishPending(ctx context.Context, r *recovery) error {
	state, err := r.ws.ExportStack(ctx, r.stack)
	if err != nil {
		return fmt.Errorf("reading the state: %w", err)
	}
	creates, pending, err := pendingCreates(state.Deployment)
	if err != nil {
		return fmt.Errorf("reading the state: %w", err)
	}
	if pending == 0 {
		return nil
	}
	fmt.Printf("recover: an interrupted run left %d pending operations: importing what exists of the %d objects it was creating, clearing the rest\n", pending, len(creates))
	stack, err := auto.SelectStack(ctx, r.stack, r.ws)
	if err != nil {
		return err
	}
	for _, c := range creates {
		if _, err := stack.Refresh(ctx, optrefresh.ImportPendingCreates([]optrefresh.PendingCreate{c})); err != nil {
			fmt.Printf("recover: %s was not imported (never created, most likely): %s\n", c.ID, lastLine(err))
		}
	}
	if _, err := stack.Refresh(ctx, optrefresh.ClearPendingCreates()); err != nil {
		return fmt.Errorf("clearing them: %w", err)
	}
	return nil
}

// pendingCreates reads a deployment's pending operations: how many there are, and the
// Kubernetes objects among them that were being created, each with the ID the provider
// gives it (namespace/name, or name for a cluster-wide object).
func pendingCreates(deployment json.RawMessage) ([]optrefresh.PendingCreate, int, error) {
	var d struct {
		PendingOperations []struct {
			Type     string `json:"type"`
			Resource struct {
				URN    string `json:"urn"`
				Type   string `json:"type"`
				Inputs struct {
					Metadata struct {
						Name      any `json:"name"`
						Namespace any `json:"namespace"`
					} `json:"metadata"`
				} `json:"inputs"`
			} `json:"resource"`
		} `json:"pending_operations"`
	}
	if err := json.Unmarshal(deployment, &d); err != nil {
		return nil, 0, err
	}
	var out []optrefresh.PendingCreate
	for _, op := range d.PendingOperations {
		r := op.Resource
		name, _ := r.Inputs.Metadata.Name.(string) // an unknown name (a secret, a computed value) is no ID
		if op.Type != "creating" || !strings.HasPrefix(r.Type, "kubernetes:") || name == "" {
			continue
		}
		id := name
		if ns, _ := r.Inputs.Metadata.Namespace.(string); ns != "" {
			id = ns + "/" + name
		}
		out = append(out, optrefresh.PendingCreate{URN: r.URN, ID: id})
	}
	return out, len(d.PendingOperations), nil
}

func lastLine(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	return lines[len(lines)-1]
}
