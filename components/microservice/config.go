package microservice

import (
	"cmp"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
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

// Log is the LOG config of a SpaceONE process: console and a log file in dir ("": the pod's
// log volume, /var/log/spaceone), at INFO, not python-core's default DEBUG (at DEBUG identity
// logs the password it checks).
func Log(name, dir string) map[string]any {
	return map[string]any{
		"loggers":  map[string]any{"spaceone": map[string]any{"level": "INFO", "handlers": []any{"console", "file"}}},
		"handlers": map[string]any{"file": map[string]any{"type": "file", "filename": cmp.Or(dir, "/var/log/spaceone") + "/" + name + ".log"}},
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
	if s.Name == "identity" {
		g["ENDPOINTS"] = identityEndpoints(w)
	}
	g = catalog.Merge(g, s.Config)
	spec := s.Variants[variant]
	if spec == nil {
		return "", fmt.Errorf("service %s has no variant %q", s.Name, variant)
	}
	g = catalog.Merge(g, spec.Config)
	if spec.Token {
		g["TOKEN_INFO"] = TokenInfo("${consul.host}", "${consul.port}")
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
	doc := map[string]any{
		"REMOTE_URL": []any{"file://" + ConfigDir(s.Name) + "/database.yaml"},
		"GLOBAL":     resolved,
	}
	if s.Database == "" {
		delete(doc, "REMOTE_URL")
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// RenderDatabase is database.yaml: the MongoDB connection of a service, password included.
func RenderDatabase(db string, mongo Endpoint, username, password string) (string, error) {
	b, err := yaml.Marshal(map[string]any{"DATABASES": map[string]any{"default": map[string]any{
		"db": db, "host": mongo.Host, "port": mongo.Port, "username": username, "password": password, "maxPoolSize": 200,
	}}})
	return string(b), err
}

// identityEndpoints is what identity's Endpoint.list returns to clients (spacectl, console).
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
	}
	kind, svc, ok := strings.Cut(key, ":")
	if ok && (kind == "grpc" || kind == "grpcv1") {
		host, deployed := w.GRPC[svc]
		if !deployed {
			return nil, fmt.Errorf("refers to service %q, which this stack does not deploy", svc)
		}
		ep := "grpc://" + host
		if !strings.Contains(host, ":") { // in the cluster every gRPC server listens on 50051
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
func InlineDatabase(configYAML, db string, mongo Endpoint, username, password string) (string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(configYAML), &doc); err != nil {
		return "", err
	}
	delete(doc, "REMOTE_URL")
	g, _ := doc["GLOBAL"].(map[string]any)
	if g == nil {
		g = map[string]any{}
	}
	g["DATABASES"] = map[string]any{"default": map[string]any{
		"db": db, "host": mongo.Host, "port": mongo.Port, "username": username, "password": password, "maxPoolSize": 50,
	}}
	doc["GLOBAL"] = g
	b, err := yaml.Marshal(doc)
	return string(b), err
}
