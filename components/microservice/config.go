package microservice

import (
	"cmp"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/apikey"
	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// Wiring is what a service's config needs to know about the rest of the stack.
type Wiring struct {
	Redis, Consul Endpoint
	// Domain is the root domain the initializer creates (${domain}).
	Domain string
	// LogDir is where the service writes its log file ("": /var/log/spaceone, the pod's log
	// volume; a laptop has no such directory, and python-core cannot start without it).
	LogDir string
	// GRPC maps each deployed gRPC service to its host (its Service name, or a laptop
	// address later); only these get connectors.
	GRPC map[string]string
	// KeyHandoff is how token consumers get the API key (catalog.HandoffConsul, HandoffSecret).
	KeyHandoff string
	// KeyFile, with HandoffSecret, is where a consumer finds the key's config file ("": in
	// its config directory, where the pod mounts it).
	KeyFile string
}

// Endpoint is a host and port.
type Endpoint struct {
	Host string
	Port int
}

// TokenKeyPath is where in Consul the initializer puts the API key the token consumers read.
const TokenKeyPath = "root/api_key/TOKEN"

// TokenInfo is the TOKEN_INFO of a token consumer: the API key, read from Consul at host:port.
func TokenInfo(host, port any) map[string]any {
	return map[string]any{"protocol": "consul", "uri": TokenKeyPath, "config": map[string]any{"host": host, "port": port}}
}

// KeyImport is what a token consumer's config imports to read the key, per hand-off:
// TOKEN_INFO (Consul) goes into GLOBAL, a key file into REMOTE_URL.
func KeyImport(handoff, dir, keyFile string, consulHost, consulPort any) (global map[string]any, remote []any) {
	switch handoff {
	case catalog.HandoffConsul:
		return map[string]any{"TOKEN_INFO": TokenInfo(consulHost, consulPort)}, nil
	case catalog.HandoffSecret:
		f := cmp.Or(keyFile, apikey.File(dir))
		if !strings.HasPrefix(f, "/") {
			return nil, []any{"file:" + f} // relative to where the process starts (a laptop)
		}
		return nil, []any{"file://" + f}
	}
	return nil, nil
}

// Log is the LOG config of a SpaceONE process: console and a log file in dir ("": the pod's
// log volume, kube.LogDir), at INFO, not python-core's default DEBUG (at DEBUG identity
// logs the password it checks).
func Log(name, dir string) map[string]any {
	return map[string]any{
		"loggers":  map[string]any{"spaceone": map[string]any{"level": "INFO", "handlers": []any{"console", "file"}}},
		"handlers": map[string]any{"file": map[string]any{"type": "file", "filename": cmp.Or(dir, kube.LogDir) + "/" + name + ".log"}},
	}
}

// ConfigDir is where a service's config files live in its container.
func ConfigDir(service string) string { return "/opt/spaceone/" + service + "/config" }

// RenderConfig is the config.yaml of one variant: everything but the database credentials,
// which live in a Secret mounted beside it as database.yaml (listed under REMOTE_URL, which
// python-core merges after GLOBAL). extra is the stack's per-service override.
func RenderConfig(s *catalog.Service, variant string, w Wiring, extra map[string]any) (string, error) {
	g := map[string]any{
		"MAX_WORKERS": 1000,
		"CACHES": map[string]any{"default": map[string]any{
			"backend": "spaceone.core.cache.redis_cache.RedisCache",
			"host":    "${redis.host}", "port": "${redis.port}", "db": 0,
			"encoding": "utf-8", "socket_timeout": 10, "socket_connect_timeout": 10,
		}},
		"HANDLERS": map[string]any{
			"authentication": []any{map[string]any{
				"backend": "spaceone.core.handler.authentication_handler.AuthenticationGRPCHandler",
				"uri":     "${grpcv1:identity}/Domain/get_public_key"}},
			"authorization": []any{map[string]any{
				"backend": "spaceone.core.handler.authorization_handler.AuthorizationGRPCHandler",
				"uri":     "${grpcv1:identity}/Authorization/verify"}},
			"mutation": []any{map[string]any{"backend": "spaceone.core.handler.mutation_handler.SpaceONEMutationHandler"}},
		},
		"LOG": Log(s.Name, w.LogDir),
	}
	connectors := map[string]any{}
	// SpaceConnector (python-core's generic client) takes its endpoints from the packages'
	// defaults, which name in-cluster Services: list every deployed service, so a config
	// rendered for another place (devConfig: a laptop) sends every call there.
	space := map[string]any{}
	for svc := range w.GRPC {
		connectors[catalog.ConnectorName(svc)] = map[string]any{"endpoint": map[string]any{"v1": "${grpc:" + svc + "}"}}
		space[strings.ReplaceAll(svc, "-", "_")] = "${grpc:" + svc + "}"
	}
	connectors["SpaceConnector"] = map[string]any{"backend": "spaceone.core.connector.space_connector.SpaceConnector", "endpoints": space}
	g["CONNECTORS"] = connectors
	g = catalog.Merge(g, s.Shared)
	g = catalog.Merge(g, s.Config)
	spec := s.Variants[variant]
	if spec == nil {
		return "", fmt.Errorf("service %s has no variant %q", s.Name, variant)
	}
	g = catalog.Merge(g, spec.Config)
	var remote []any
	if s.Database != "" {
		remote = append(remote, "file://"+ConfigDir(s.Name)+"/database.yaml")
	}
	if spec.Token {
		global, imports := KeyImport(w.KeyHandoff, ConfigDir(s.Name), w.KeyFile, "${consul.host}", "${consul.port}")
		g = catalog.Merge(g, global)
		remote = append(remote, imports...)
	}
	g = catalog.Merge(g, extra)
	if q, ok := g["QUEUES"].(map[string]any); ok {
		for name, v := range q {
			if m, ok := v.(map[string]any); ok {
				m = catalog.Merge(map[string]any{"host": "${redis.host}", "port": "${redis.port}"}, m)
				q[name] = m
			}
		}
	}
	resolved, err := fill(g, w)
	if err != nil {
		return "", fmt.Errorf("%s %s config: %w", s.Name, variant, err)
	}
	doc := map[string]any{"GLOBAL": resolved}
	if len(remote) > 0 {
		doc["REMOTE_URL"] = remote
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// RenderDatabase is database.yaml: the MongoDB login of a service, password included, for
// its models (DATABASES) and, when it has one, its data store's connector.
func RenderDatabase(s *catalog.Service, mongo Endpoint, username, password string) (string, error) {
	b, err := yaml.Marshal(databaseLogin(s, mongo, username, password, 200))
	return string(b), err
}

func databaseLogin(s *catalog.Service, mongo Endpoint, username, password string, pool int) map[string]any {
	login := map[string]any{"DATABASES": map[string]any{"default": map[string]any{
		"db": s.Database, "host": mongo.Host, "port": mongo.Port, "username": username, "password": password, "maxPoolSize": pool,
	}}}
	if d := s.DataStore; d != nil {
		login["CONNECTORS"] = map[string]any{d.Connector: map[string]any{
			"host": mongo.Host, "port": mongo.Port, "username": username, "password": password}}
	}
	return login
}

// identityEndpoints (${endpoints}) is every deployed gRPC service as identity's
// Endpoint.list returns it to clients (spacectl, console).
func identityEndpoints(w Wiring) []any {
	names := make([]string, 0, len(w.GRPC))
	for n := range w.GRPC {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []any
	for _, n := range names {
		out = append(out, map[string]any{
			"service":  strings.ReplaceAll(n, "-", "_"),
			"name":     strings.ToUpper(n[:1]) + strings.ReplaceAll(n[1:], "-", " ") + " Service",
			"endpoint": "${grpcv1:" + n + "}",
		})
	}
	return out
}

var placeholder = regexp.MustCompile(`\$\{([a-z0-9.:-]+)\}`)

// fill replaces placeholders; a string that is exactly one placeholder takes its typed value.
func fill(v any, w Wiring) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			f, err := fill(e, w)
			if err != nil {
				return nil, err
			}
			out[k] = f
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			f, err := fill(e, w)
			if err != nil {
				return nil, err
			}
			out[i] = f
		}
		return out, nil
	case string:
		if m := placeholder.FindStringSubmatch(x); m != nil && m[0] == x {
			return lookup(m[1], w)
		}
		var ferr error
		s := placeholder.ReplaceAllStringFunc(x, func(p string) string {
			val, err := lookup(p[2:len(p)-1], w)
			if err != nil {
				ferr = err
			}
			return fmt.Sprint(val)
		})
		return s, ferr
	default:
		return v, nil
	}
}

func lookup(key string, w Wiring) (any, error) {
	switch key {
	case "redis.host":
		return w.Redis.Host, nil
	case "redis.port":
		return w.Redis.Port, nil
	case "consul.host":
		return w.Consul.Host, nil
	case "consul.port":
		return w.Consul.Port, nil
	case "domain":
		return w.Domain, nil
	case "endpoints":
		return fill(identityEndpoints(w), w)
	}
	kind, svc, ok := strings.Cut(key, ":")
	if ok && (kind == "grpc" || kind == "grpcv1") {
		host, deployed := w.GRPC[svc]
		if !deployed {
			return nil, fmt.Errorf("refers to service %q, which this stack does not deploy", svc)
		}
		ep := "grpc://" + host
		if !strings.Contains(host, ":") { // in the cluster every gRPC server listens on catalog.GRPCPort
			ep += ":" + strconv.Itoa(catalog.GRPCPort)
		}
		if kind == "grpcv1" {
			ep += "/v1"
		}
		return ep, nil
	}
	return nil, fmt.Errorf("unknown placeholder ${%s}", key)
}

// InlineDatabase turns a config.yaml into one file that runs outside the cluster: the
// REMOTE_URL to the mounted database.yaml is replaced by the database login itself.
func InlineDatabase(configYAML string, s *catalog.Service, mongo Endpoint, username, password string) (string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(configYAML), &doc); err != nil {
		return "", err
	}
	// Other imports (the API key's file) stay.
	var remote []any
	for _, u := range asList(doc["REMOTE_URL"]) {
		if !strings.HasSuffix(fmt.Sprint(u), "/database.yaml") {
			remote = append(remote, u)
		}
	}
	delete(doc, "REMOTE_URL")
	if len(remote) > 0 {
		doc["REMOTE_URL"] = remote
	}
	g, _ := doc["GLOBAL"].(map[string]any)
	if g == nil {
		g = map[string]any{}
	}
	doc["GLOBAL"] = catalog.Merge(g, databaseLogin(s, mongo, username, password, 50))
	b, err := yaml.Marshal(doc)
	return string(b), err
}

func asList(v any) []any { l, _ := v.([]any); return l }
