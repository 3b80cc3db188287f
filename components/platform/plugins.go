package platform

import (
	"fmt"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
	"github.com/spaceone-pulumi/spaceone/components/initializer"
	"github.com/spaceone-pulumi/spaceone/components/settings"
)

// pluginRegistrations are the stack's plugins as the initializer registers them.
func pluginRegistrations(s *settings.Settings) ([]initializer.Plugin, error) {
	var out []initializer.Plugin
	for i, p := range s.Plugins {
		im, err := s.ImageOf(p)
		if err != nil { // settings.Load refused it already
			return nil, fmt.Errorf("plugins[%d]: %w", i, err)
		}
		out = append(out, initializer.Plugin{Name: p.Name, Image: im.Path, RegistryType: im.RegistryType,
			Version: p.Version, ServiceType: p.ServiceType, Provider: p.Provider})
	}
	return out, nil
}

// pluginRegistryConfig is what the repository service needs to read the plugins' registry
// (one besides Docker Hub): its address, which also prefixes the images the supervisor runs,
// and its v2 API for the versions (SpaceONE's HarborConnector; no credentials: the registry
// must let it list tags anonymously).
func pluginRegistryConfig(host string, insecure bool) map[string]any {
	scheme := "https://"
	if insecure {
		scheme = "http://"
	}
	return map[string]any{
		"REGISTRY_URL_MAP": map[string]any{catalog.RegistryHarbor: host},
		"CONNECTORS":       map[string]any{"HarborConnector": map[string]any{"base_url": scheme + host, "token": "", "verify": true}},
	}
}
