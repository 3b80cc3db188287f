package platform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// StartOrder is what waits for what in one stack: the release's start rules (catalogue
// `start:`) resolved to the workloads this stack runs in the cluster. The platform orders its
// resources by it, and the README draws it (Markdown), so neither can drift from the other.
type StartOrder struct {
	Workloads []string // every in-cluster workload, in the order the platform creates them
	Rules     []Rule   // the release's rules that apply to this stack, in catalogue order
	// Components are the steps the platform deploys after the stores, each once everything
	// its workloads wait for is deployed (catalog.Release.Component groups the workloads).
	Components []Component
}

// Component is one step of the platform: the workloads it deploys (none for a service on a
// laptop, which gets only its Service here).
type Component struct {
	Name      string
	Workloads []string
}

// Rule is one start rule resolved: each of Workloads waits until all of WaitFor are ready.
type Rule struct {
	Names     []string // as the catalogue writes them (workloads, patterns, groups)
	Workloads []string
	WaitFor   []string
	Why       string
}

// NewStartOrder resolves the release's start rules for a stack and orders its components by
// them; an order that cannot be kept is an error before any resource is registered.
func NewStartOrder(s *settings.Settings, plan *Plan) (*StartOrder, error) {
	o := resolve(s, plan)
	if err := o.orderComponents(plan); err != nil {
		return nil, err
	}
	return o, nil
}

// resolve applies the release's start rules to the workloads the stack runs.
func resolve(s *settings.Settings, plan *Plan) *StartOrder {
	o := &StartOrder{}
	o.Workloads = append(o.Workloads, s.InClusterStores()...)
	if slices.Contains(s.InClusterStores(), "mongodb") {
		o.Workloads = append(o.Workloads, catalog.DBUsers)
	}
	if plan.Upgrade != nil {
		// Not a rule of a release but of the up that moves a stack's data: the move runs once
		// the stores and the users are there, and everything of the new release after it.
		o.Workloads = append(o.Workloads, backup.Upgrade)
		defer func() {
			var after []string
			for _, w := range o.Workloads[slices.Index(o.Workloads, backup.Upgrade)+1:] {
				after = append(after, w)
			}
			o.Rules = append(o.Rules,
				Rule{Names: []string{backup.Upgrade}, Workloads: []string{backup.Upgrade}, WaitFor: []string{"mongodb", catalog.DBUsers},
					Why: "it stops " + plan.Upgrade.From + "'s services, takes a backup and moves the data to " + plan.Upgrade.To + "."},
				Rule{Names: []string{"*"}, Workloads: after, WaitFor: []string{backup.Upgrade},
					Why: "they run on the moved data."})
		}()
	}
	for _, sp := range plan.Services {
		if sp.Local != nil {
			continue // served from a laptop: nothing of it runs here
		}
		for _, v := range sp.Variants {
			o.Workloads = append(o.Workloads, catalog.WorkloadName(sp.Name, v))
		}
	}
	if s.Console.On() {
		o.Workloads = append(o.Workloads, catalog.WorkloadConsole, catalog.WorkloadConsoleAPI)
	}
	// The release's token consumers this stack runs (the supervisor once it is added below).
	consumers := func() []string {
		var out []string
		for _, c := range plan.Release.TokenConsumers() {
			if slices.Contains(o.Workloads, c) {
				out = append(out, c)
			}
		}
		return out
	}
	if s.Restore != "" && s.Backups() {
		// Not a rule of a release but of a stack that restores: the restore stops and starts
		// again everything that runs before the initializer (up must have stopped waiting for
		// them), and the initializer then works on the restored data. A service one of whose
		// variants waits for the key is deployed in one piece after the initializer, so its
		// other variants start after the restore, on the restored data, too.
		withConsumer := map[string]bool{}
		for _, c := range consumers() {
			withConsumer[plan.Release.Component(c)] = true
		}
		var before, late []string
		for _, w := range o.Workloads {
			switch {
			case slices.Contains(consumers(), w):
			case withConsumer[plan.Release.Component(w)]:
				late = append(late, w)
			default:
				before = append(before, w)
			}
		}
		o.Workloads = append(o.Workloads, backup.Restore)
		defer func() {
			o.Rules = append(o.Rules,
				Rule{Names: []string{backup.Restore}, Workloads: []string{backup.Restore}, WaitFor: before,
					Why: "it stops what writes, restores the backup, and starts them again (spaceone:restore)."},
				Rule{Names: []string{catalog.WorkloadInitializer}, Workloads: []string{catalog.WorkloadInitializer}, WaitFor: []string{backup.Restore},
					Why: "it initialises the restored data, or finds it initialised."})
			if len(late) > 0 {
				o.Rules = append(o.Rules, Rule{Names: late, Workloads: late, WaitFor: []string{backup.Restore},
					Why: "another variant of their service waits for the key, and a service is deployed in one piece: they start on the restored data."})
			}
		}()
	}
	o.Workloads = append(o.Workloads, catalog.WorkloadInitializer)
	if s.SupervisorEnabled() {
		o.Workloads = append(o.Workloads, catalog.WorkloadSupervisor)
	}
	runs := func(names []string) []string {
		var out []string
		for _, n := range names {
			if slices.Contains(o.Workloads, n) {
				out = append(out, n)
			}
		}
		return out
	}
	for _, w := range plan.Release.Start {
		r := Rule{Names: w.Workloads, Why: w.Why, WaitFor: runs(w.WaitFor)}
		for _, n := range w.Workloads {
			matched := catalog.MatchWorkloads(n, o.Workloads)
			if n == catalog.TokenConsumers {
				matched = consumers()
			}
			for _, m := range matched {
				if !slices.Contains(r.Workloads, m) {
					r.Workloads = append(r.Workloads, m)
				}
			}
		}
		// A store outside the cluster, or a service on a laptop, is not waited for here.
		if len(r.Workloads) > 0 && len(r.WaitFor) > 0 {
			o.Rules = append(o.Rules, r)
		}
	}
	return o
}

// orderComponents sets o.Components: every component but the stores (deployed first: all
// others read their endpoints), each after the components whose workloads it waits for, and
// otherwise in the order of o.Workloads.
func (o *StartOrder) orderComponents(plan *Plan) error {
	rel := plan.Release
	var todo []Component
	at := map[string]int{} // a component's index in todo
	add := func(name, workload string) {
		i, ok := at[name]
		if !ok {
			i, at[name] = len(todo), len(todo)
			todo = append(todo, Component{Name: name})
		}
		if workload != "" {
			todo[i].Workloads = append(todo[i].Workloads, workload)
		}
	}
	for _, w := range o.Workloads {
		if c := rel.Component(w); c != catalog.StoresComponent {
			add(c, w)
		}
	}
	for _, sp := range plan.Services {
		if sp.Local != nil {
			add(sp.Name, "")
		}
	}
	deployed := map[string]bool{}
	for _, w := range o.Workloads {
		if rel.Component(w) == catalog.StoresComponent {
			deployed[w] = true
		}
	}
	ready := func(c Component) error {
		for _, w := range c.Workloads {
			for _, f := range o.WaitFor(w) {
				if slices.Contains(c.Workloads, f) {
					return fmt.Errorf("%s waits for %s, which the same component deploys", w, f)
				}
				if !deployed[f] {
					return fmt.Errorf("%s waits for %s", w, f)
				}
			}
		}
		return nil
	}
	for len(todo) > 0 {
		var why []string
		next := -1
		for i, c := range todo {
			err := ready(c)
			if err == nil {
				next = i
				break
			}
			why = append(why, c.Name+": "+err.Error())
		}
		if next < 0 {
			return fmt.Errorf("start order: no component can be deployed first of %d left (%s); "+
				"the release's start rules make components wait in a circle", len(todo), strings.Join(why, "; "))
		}
		for _, w := range todo[next].Workloads {
			deployed[w] = true
		}
		o.Components = append(o.Components, todo[next])
		todo = slices.Delete(todo, next, next+1)
	}
	return nil
}

// WaitFor lists what a workload waits for, in catalogue order, without repeats.
func (o *StartOrder) WaitFor(workload string) []string {
	var out []string
	for _, r := range o.Rules {
		if slices.Contains(r.Workloads, workload) {
			for _, f := range r.WaitFor {
				if !slices.Contains(out, f) {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// Markdown is the README's "Start order": a Mermaid flowchart and why each wait exists.
func (o *StartOrder) Markdown() string {
	id := func(n string) string { return strings.ReplaceAll(n, "-", "_") }
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n  subgraph at_once [\"start at once\"]\n    direction TB\n")
	waiting := map[string]bool{}
	for _, r := range o.Rules {
		for _, w := range r.Workloads {
			waiting[w] = true
		}
	}
	for _, w := range o.Workloads {
		if !waiting[w] {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", id(w), w)
		}
	}
	b.WriteString("  end\n")
	for _, w := range o.Workloads {
		if waiting[w] {
			fmt.Fprintf(&b, "  %s[\"%s\"]\n", id(w), w)
		}
	}
	ids := func(names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = id(n)
		}
		return strings.Join(out, " & ")
	}
	for _, r := range o.Rules {
		fmt.Fprintf(&b, "  %s --> %s\n", ids(r.WaitFor), ids(r.Workloads))
	}
	b.WriteString("```\n\n")
	for _, r := range o.Rules {
		who := "`" + strings.Join(r.Names, "`, `") + "`"
		if !slices.Equal(r.Names, r.Workloads) {
			who += " (" + strings.Join(r.Workloads, ", ") + ")"
		}
		verb := "wait"
		if len(r.Names) == 1 && slices.Equal(r.Names, r.Workloads) {
			verb = "waits"
		}
		fmt.Fprintf(&b, "- %s %s for %s: %s\n", who, verb, strings.Join(r.WaitFor, ", "), r.Why)
	}
	return b.String()
}

// readiness is what the platform has created so far, per workload: the resources that are
// ready once the workload is. The components run in the start order, so everything a
// workload waits for is created before it.
type readiness struct {
	order *StartOrder
	ready map[string][]pulumi.Resource
}

func (r *readiness) add(workload string, rs ...pulumi.Resource) {
	r.ready[workload] = append(r.ready[workload], rs...)
}

// waits returns the resources a workload must wait for.
func (r *readiness) waits(workload string) (kube.Waits, error) {
	w := kube.Waits{Names: r.order.WaitFor(workload)}
	for _, f := range w.Names {
		got, created := r.ready[f]
		if !created {
			return kube.Waits{}, fmt.Errorf("start order: %s waits for %s, which is not deployed before it", workload, f)
		}
		w.Resources = append(w.Resources, got...)
	}
	// The move between releases belongs to this up alone: waiting for it is not recorded on
	// the workloads, or the next up would change every one of them back.
	w.Names = slices.DeleteFunc(w.Names, func(n string) bool { return n == backup.Upgrade })
	return w, nil
}
