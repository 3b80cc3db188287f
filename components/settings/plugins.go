package settings

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

// Plugin is one plugin the platform registers in its local repository (spaceone:plugins), so
// a collector (or data source, ...) can use it without the public marketplace.
type Plugin struct {
	Name string `json:"name"`
	// Image is a repository without tag, under images.registry like every image (else where it
	// says: a registry host of its own, or Docker Hub).
	Image       string `json:"image"`
	Version     string `json:"version"`     // the pinned tag collectors run
	ServiceType string `json:"serviceType"` // e.g. inventory.Collector
	Provider    string `json:"provider"`    // optional, e.g. aws
}

// PluginImage is where a plugin's image lives as SpaceONE's repository sees it.
type PluginImage struct {
	RegistryType string // catalog.RegistryDockerHub or catalog.RegistryHarbor
	Host         string // a Harbor-type registry: the registry's host[:port]
	Path         string // the image under its registry, as the repository registers it
}

// ID is the plugin_id SpaceONE derives from the image: its last path segment.
func (p PluginImage) ID() string { return lastSegment(p.Path) }

// Reference is the image the supervisor runs for a version (Docker Hub's with its host, as
// the supervisor writes it).
func (p PluginImage) Reference(version string) string {
	host := p.Host
	if p.RegistryType == catalog.RegistryDockerHub {
		host = "registry.hub.docker.com"
	}
	return host + "/" + p.Path + ":" + version
}

// ImageOf resolves a plugin's image under images.registry (the same move as every image's).
func (s *Settings) ImageOf(p Plugin) (PluginImage, error) {
	name := p.Image
	if s.Images.Registry != "" {
		name = strings.TrimSuffix(s.Images.Registry, "/") + "/" + lastSegment(p.Image)
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return PluginImage{}, err
	}
	if !reference.IsNameOnly(named) {
		return PluginImage{}, errTagged
	}
	if d := reference.Domain(named); d != "docker.io" {
		return PluginImage{RegistryType: catalog.RegistryHarbor, Host: d, Path: reference.Path(named)}, nil
	}
	return PluginImage{RegistryType: catalog.RegistryDockerHub, Path: reference.Path(named)}, nil
}

var errTagged = errors.New("has a tag or digest")

// PluginRegistry is the one registry besides Docker Hub that the plugins come from ("" = none):
// SpaceONE's repository keeps one address per registry type.
func (s *Settings) PluginRegistry() string {
	for _, p := range s.Plugins {
		if im, err := s.ImageOf(p); err == nil && im.RegistryType == catalog.RegistryHarbor {
			return im.Host
		}
	}
	return ""
}

var (
	// SpaceONE's repository takes the last segment as plugin_id: letters, digits and '-', at
	// most 48 characters (and it names the supervisor's Deployment and Service, lower-case).
	pluginIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$`)
	pluginName      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$`)
	providerPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// checkPlugins refuses what SpaceONE's repository would refuse at the initializer's run, and
// what would make a collector fail later (an unpinned version, a registry the release cannot
// read), naming each entry's key.
func (l *loader) checkPlugins(s *Settings, known Known) {
	names, ids := map[string]int{}, map[string]int{}
	privateHost, privateAt := "", -1
	for i, p := range s.Plugins {
		key := fmt.Sprintf("plugins[%d]", i)
		switch {
		case p.Name == "":
			l.fail(key+".name", "is empty; name the plugin (e.g. aws-ec2-collector): collectors find it by this name")
		case !pluginName.MatchString(p.Name):
			l.fail(key+".name", "%q: use up to 63 letters, digits, spaces, '.', '_' or '-'", p.Name)
		default:
			if j, dup := names[p.Name]; dup {
				l.fail(key+".name", "%q is also the name of plugins[%d]; each plugin is registered once", p.Name, j)
			}
			names[p.Name] = i
		}
		if err := CheckTag(p.Version); err != nil {
			l.fail(key+".version", "%s", strings.Replace(err.Error(), "image tag", "plugin version", 1))
		}
		if known != nil && !slices.Contains(known.PluginServiceTypes(), p.ServiceType) {
			l.fail(key+".serviceType", "%q is not a plugin type of this release; use one of: %s", p.ServiceType, strings.Join(known.PluginServiceTypes(), ", "))
		}
		if p.Provider != "" && !providerPattern.MatchString(p.Provider) {
			l.fail(key+".provider", "%q is not a provider name (lower-case letters, digits and '_', e.g. aws, google_cloud)", p.Provider)
		}
		if p.Image == "" {
			l.fail(key+".image", "is empty; give the plugin's image without tag, e.g. spaceone/plugin-aws-ec2-inven-collector")
			continue
		}
		im, err := s.ImageOf(p)
		switch {
		case errors.Is(err, errTagged):
			l.fail(key+".image", "%q must be an image without tag or digest; set the tag in %s.version", p.Image, key)
			continue
		case err != nil:
			l.fail(key+".image", "%q is not an image reference (%v); write it like spaceone/plugin-aws-ec2-inven-collector or registry.example.com/team/my-collector", p.Image, err)
			continue
		case !pluginIDPattern.MatchString(im.ID()):
			l.fail(key+".image", "%q: SpaceONE takes the image's last segment as the plugin's id, which must be 1-48 lower-case letters, digits and '-'", p.Image)
			continue
		case strings.Count(im.Path, "/") > 2:
			l.fail(key+".image", "%q: SpaceONE's repository takes at most 3 path segments under the registry", p.Image)
			continue
		}
		if j, dup := ids[im.ID()]; dup {
			l.fail(key+".image", "%q has the plugin id %q of plugins[%d] (its last segment); SpaceONE keeps one plugin per id", p.Image, im.ID(), j)
		}
		ids[im.ID()] = i
		if known != nil && !slices.Contains(known.PluginRegistries(), im.RegistryType) {
			l.fail(key+".image", "%q is on %s, but this release's repository finds plugin versions only through Docker Hub's API (internet); "+
				"use an image on Docker Hub, or release 1.12.12, whose repository reads any registry's v2 API", p.Image, im.Host)
			continue
		}
		if im.RegistryType == catalog.RegistryHarbor {
			if privateHost != "" && im.Host != privateHost {
				l.fail(key+".image", "%q is on %s, plugins[%d] on %s: SpaceONE's repository reads one registry besides Docker Hub; "+
					"mirror the plugin images into one (or set images.registry)", p.Image, im.Host, privateAt, privateHost)
			}
			if privateHost == "" {
				privateHost, privateAt = im.Host, i
			}
		}
	}
}
