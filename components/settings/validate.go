package settings

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
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

func isDNSLabel(s string) bool     { return len(validation.IsDNS1123Label(s)) == 0 }
func isDNSSubdomain(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }
func isPort(p int) bool            { return len(validation.IsValidPortNum(p)) == 0 }
func isIPv4(s string) bool         { ip := net.ParseIP(s); return ip != nil && ip.To4() != nil }

// MemoryFloor is the least memory a SpaceONE process starts in: python-core with its gRPC
// server or scheduler takes 60-150 MiB resident (measured on the real proving ground).
var MemoryFloor = resource.MustParse("128Mi")

// Quantity kinds: what a setting holds decides which units make sense.
type quantityKind int

const (
	cpuQuantity    quantityKind = iota // cores: 100m, 0.5, 2
	memoryQuantity                     // bytes: 256Mi, 1Gi (at least MemoryFloor)
	sizeQuantity                       // bytes of a volume: 8Gi (more than 0)
)

// CheckQuantity parses a Kubernetes quantity and refuses what cannot be meant: not a
// quantity, zero or less, a fraction of a byte (512m of memory is half a byte), memory
// below MemoryFloor. The message says what was given and what is wanted.
func CheckQuantity(v string, kind quantityKind) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(v)
	examples := map[quantityKind]string{cpuQuantity: "100m, 0.5 or 2", memoryQuantity: "256Mi or 1Gi", sizeQuantity: "8Gi"}[kind]
	switch {
	case err != nil:
		return q, fmt.Errorf("%q is not a Kubernetes quantity; use e.g. %s", v, examples)
	case q.Sign() <= 0:
		return q, fmt.Errorf("%q must be more than 0; use e.g. %s", v, examples)
	case kind != cpuQuantity && q.MilliValue()%1000 != 0:
		return q, fmt.Errorf("%q is a fraction of a byte (the m suffix means 1/1000); use byte units, e.g. %s", v, examples)
	case kind == memoryQuantity && q.Cmp(MemoryFloor) < 0:
		return q, fmt.Errorf("%q is below %s, in which a SpaceONE process cannot start", v, MemoryFloor.String())
	}
	return q, nil
}

// CheckRequestLimit refuses a limit below its request (the API server refuses the
// Deployment half-way through an up).
func CheckRequestLimit(request, limit resource.Quantity) error {
	if limit.Cmp(request) < 0 {
		return fmt.Errorf("limit %s is below the request %s; raise the limit or lower the request", limit.String(), request.String())
	}
	return nil
}

// CheckNamespace refuses a namespace the stack must not own: the stack creates, polices and,
// on destroy, deletes its namespaces.
func CheckNamespace(ns string) error {
	if !isDNSLabel(ns) {
		return fmt.Errorf("%q is not a valid Kubernetes namespace name (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)", ns)
	}
	if ns == "default" || strings.HasPrefix(ns, "kube-") {
		return fmt.Errorf("%q is a system namespace: the stack would own it and delete it on destroy; use a namespace of its own (e.g. spaceone)", ns)
	}
	return nil
}
