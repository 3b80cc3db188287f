// Package releasechange guards a stack against switching SpaceONE releases under its data:
// the services of one release read another's databases only after a migration
// (cloudforet-io/db-migration for 1.12, which also deletes data), so `up` refuses a change of
// spaceone:release on a stack that holds data until the user confirms that the migration the
// target release's catalogue names was done. A fresh stack installs any release directly;
// `pulumi preview` shows the change (and this warning) without refusing.
package releasechange

import (
	"fmt"
	"strings"
)

// ConfirmKey is the setting that confirms one release change ("<from>-><to>").
const ConfirmKey = "spaceone:confirmReleaseChange"

// Confirmation is the value of ConfirmKey that allows the change from one release to another.
func Confirmation(from, to string) string { return from + "->" + to }

// Change is a stack's release as deployed and as configured.
type Change struct {
	Deployed  string // "" when the stack holds nothing yet
	Wanted    string
	Confirmed string // the value of ConfirmKey, "" when unset
	// Migration is what the wanted release's catalogue says must happen to the data first.
	Migration string
	// Moves, when set, is what the up deletes when it moves the data itself (the wanted
	// release's catalogue has an upgrade from the deployed one).
	Moves string
}

// Upgrades reports whether this up moves the data to the wanted release: the change is
// pending, confirmed, and the wanted release knows how.
func (c Change) Upgrades() bool {
	return c.Pending() && c.Moves != "" && strings.TrimSpace(c.Confirmed) == Confirmation(c.Deployed, c.Wanted)
}

// Pending reports whether the release changes on a stack that holds data.
func (c Change) Pending() bool { return c.Deployed != "" && c.Deployed != c.Wanted }

// Check returns an error for an unconfirmed release change, naming what to do; nil when the
// release stays, the stack is fresh, or the user confirmed this very change.
func (c Change) Check() error {
	if !c.Pending() || strings.TrimSpace(c.Confirmed) == Confirmation(c.Deployed, c.Wanted) {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "spaceone:release: this stack runs SpaceONE %s and holds its data; %s does not read it as it is.\n", c.Deployed, c.Wanted)
	switch {
	case c.Moves != "":
		fmt.Fprintf(&b, "  With the confirmation, up moves the data itself: it takes a backup of everything, stops %s, migrates,\n"+
			"  and starts %s. It deletes %s.\n", c.Deployed, c.Wanted, c.Moves)
		fmt.Fprintf(&b, "  Confirm it:        pulumi config set %s '%s'\n", strings.TrimPrefix(ConfirmKey, "spaceone:"), Confirmation(c.Deployed, c.Wanted))
	default:
		if c.Migration != "" {
			fmt.Fprintf(&b, "  Before the change: %s\n", c.Migration)
		}
		fmt.Fprintf(&b, "  Then confirm it:   pulumi config set %s '%s'\n", strings.TrimPrefix(ConfirmKey, "spaceone:"), Confirmation(c.Deployed, c.Wanted))
	}
	fmt.Fprintf(&b, "  Or keep the release: pulumi config set release %s\n", c.Deployed)
	if c.Confirmed != "" {
		fmt.Fprintf(&b, "  (%s is %q, which confirms another change)\n", ConfirmKey, c.Confirmed)
	}
	b.WriteString("Nothing was changed.")
	return fmt.Errorf("%s", b.String())
}
