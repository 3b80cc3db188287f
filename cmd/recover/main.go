// Command recover repairs what an interrupted run (the CLI killed, the laptop asleep, Ctrl-C
// twice) left in a stack's state, so that a plain `up` converges with no state surgery.
// scripts/recover.sh runs it before every `make up` and `make destroy`:
//
//	go run ./cmd/recover [-dir PROJECT] STACK
//
// Its steps run in order, each a no-op when it finds nothing to repair:
//  1. a lock held by a pulumi process that no longer runs on this machine is removed;
//  2. a checkpoint cut short by the kill is replaced by the backend's own backup of it, or,
//     with none readable, by an empty state (the next up adopts what the cluster holds);
//  3. the objects the killed run was creating are imported, its other pending operations
//     dropped.
//
// Steps 1 and 2 read the files of Pulumi's DIY backend (diy.go): the Automation API reaches no
// stack that is locked or whose checkpoint cannot be read. On any other backend they are
// skipped; step 3 goes through the Automation API alone.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// recovery is what the steps act on: one stack of the project in dir.
type recovery struct {
	ws    auto.Workspace
	stack string
	// diy is the stack's files in a DIY backend; nil on any other backend.
	diy *diyStack
}

// steps are the repairs in the order they must run: no pulumi command reads a locked stack's
// checkpoint, and none reads its pending operations before the checkpoint is readable.
var steps = []struct {
	name string
	run  func(context.Context, *recovery) error
}{
	{"removing stale locks", removeStaleLocks},
	{"repairing a cut checkpoint", repairCheckpoint},
	{"finishing pending operations", finishPending},
}

func main() {
	dir := flag.String("dir", ".", "the project directory")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recover [-dir PROJECT] STACK")
		os.Exit(2)
	}
	if err := run(context.Background(), *dir, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "recover:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, stack string) error {
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(dir))
	if err != nil {
		return fmt.Errorf("opening the project in %s: %w", dir, err)
	}
	project, err := ws.ProjectSettings(ctx)
	if err != nil {
		return fmt.Errorf("reading the project in %s: %w", dir, err)
	}
	r := &recovery{ws: ws, stack: stack}
	if r.diy, err = diyStackOf(os.Getenv("PULUMI_BACKEND_URL"), string(project.Name), stack); err != nil {
		return err
	}
	for _, s := range steps {
		if err := s.run(ctx, r); err != nil {
			return fmt.Errorf("%s of stack %s: %w", s.name, stack, err)
		}
	}
	return nil
}
