package settings

import (
	"fmt"
	"net"
	"regexp"
)

// tagPattern is SpaceONE's image versioning: MAJOR.MINOR.SPRINT, an optional .HOTFIX and an
// optional -EXTRA suffix (1.10.4, 1.10.4.10, 1.10.4-rc1). Nothing else is pinned enough.
var tagPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z][0-9A-Za-z.]*)?$`)

// CheckTag refuses tags that are not pinned SpaceONE versions: empty, "latest", or any other shape.
func CheckTag(tag string) error {
	switch {
	case tag == "":
		return fmt.Errorf("image tag is empty; pin a version like 1.10.4 (MAJOR.MINOR.SPRINT[.HOTFIX][-EXTRA])")
	case tag == "latest":
		return fmt.Errorf("image tag \"latest\" is refused: it changes under you; pin a version like 1.10.4 (MAJOR.MINOR.SPRINT[.HOTFIX][-EXTRA])")
	case !tagPattern.MatchString(tag):
		return fmt.Errorf("image tag %q is not MAJOR.MINOR.SPRINT[.HOTFIX][-EXTRA] (e.g. 1.10.4, 1.10.4.2, 1.10.4-rc1)", tag)
	}
	return nil
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	quantity     = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)
)

func isDNSLabel(s string) bool     { return dnsLabel.MatchString(s) }
func isDNSSubdomain(s string) bool { return len(s) <= 253 && dnsSubdomain.MatchString(s) }
func isQuantity(s string) bool     { return quantity.MatchString(s) }
func isIPv4(s string) bool         { ip := net.ParseIP(s); return ip != nil && ip.To4() != nil }
