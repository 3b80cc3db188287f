package settings

import (
	"fmt"
	"slices"
	"strings"
)

// TopLevelKeys are the stack settings the program reads: Pulumi.yaml's config block and the
// secrets. A test keeps the two lists in step.
var TopLevelKeys = []string{
	"clusterType", "kubeContext", "kubeconfig", "eks", "namespace", "pluginNamespace", "release", "confirmReleaseChange",
	"images", "services", "stores", "console", "domain", "adminUser", "initializer", "supervisor", "plugins",
	"backup", "restore",
	"localServices", "dev", "renderDir",
	// secrets (pulumi config set --secret)
	"adminPassword", "marketplaceToken", "mongodbPassword", "credentialSeed",
}

// KeyLister is a Source that can list every key the stack sets (the program's, from the
// engine's PULUMI_CONFIG), so a misspelt setting is refused instead of ignored.
type KeyLister interface {
	ConfigKeys() []string
}

func (l *loader) checkTopLevelKeys() {
	kl, ok := l.src.(KeyLister)
	if !ok {
		return
	}
	keys := kl.ConfigKeys()
	slices.Sort(keys)
	for _, full := range keys {
		key, ours := strings.CutPrefix(full, Project+":")
		if !ours || slices.Contains(TopLevelKeys, key) {
			continue
		}
		l.fail(key, "is not a setting of this program%s; the settings are described in Pulumi.yaml", suggest(key, TopLevelKeys))
	}
}

// suggest is ` (did you mean "x"?)` for the known word nearest to word, or "" when none is
// near enough to be a typo.
func suggest(word string, known []string) string {
	best, dist := "", len(word)/3+2
	for _, k := range known {
		if d := editDistance(strings.ToLower(word), strings.ToLower(k)); d < dist {
			best, dist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
