package platform

import (
	"slices"
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// names lists the components in their order.
func names(cs []Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// Components run after the components whose workloads theirs wait for, whatever the order
// of the workloads; a service's variants stay one component; the stores are not among them.
func TestComponentsRunInTheStartOrder(t *testing.T) {
	rel, err := catalog.Load("1.12.12")
	if err != nil {
		t.Fatal(err)
	}
	o := &StartOrder{
		Workloads: []string{"mongodb", "notification-scheduler", "notification", "initializer", "identity"},
		Rules: []Rule{
			{Workloads: []string{"initializer"}, WaitFor: []string{"identity", "mongodb"}},
			{Workloads: []string{"notification-scheduler"}, WaitFor: []string{"initializer"}},
		},
	}
	if err := o.orderComponents(&Plan{Release: rel}); err != nil {
		t.Fatal(err)
	}
	if got, want := names(o.Components), []string{"identity", "initializer", "notification"}; !slices.Equal(got, want) {
		t.Errorf("components %v, want %v", got, want)
	}
	if got := o.Components[2].Workloads; !slices.Equal(got, []string{"notification-scheduler", "notification"}) {
		t.Errorf("notification deploys %v", got)
	}
}

// Components that wait in a circle are an error that names what each waits for.
func TestComponentsInACircleAreAnError(t *testing.T) {
	rel, err := catalog.Load("1.12.12")
	if err != nil {
		t.Fatal(err)
	}
	o := &StartOrder{
		Workloads: []string{"notification", "notification-scheduler", "initializer"},
		Rules: []Rule{
			{Workloads: []string{"initializer"}, WaitFor: []string{"notification"}},
			{Workloads: []string{"notification-scheduler"}, WaitFor: []string{"initializer"}},
		},
	}
	err = o.orderComponents(&Plan{Release: rel})
	if err == nil || !strings.Contains(err.Error(), "notification: notification-scheduler waits for initializer") ||
		!strings.Contains(err.Error(), "initializer: initializer waits for notification") {
		t.Errorf("got %v", err)
	} else {
		t.Log(err)
	}
}
