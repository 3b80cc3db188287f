package settings

import (
	"strings"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/catalog"
)

func plugin(name, image, version string) map[string]any {
	return map[string]any{"name": name, "image": image, "version": version, "serviceType": "inventory.Collector"}
}

// Where a plugin's image is decides how SpaceONE's repository finds its versions: Docker Hub's
// API, or the v2 API of the registry it (or images.registry) names.
func TestImageOf(t *testing.T) {
	for _, c := range []struct {
		image, registry string
		want            PluginImage
		ref             string
	}{
		{"spaceone/plugin-aws-ec2-inven-collector", "", PluginImage{RegistryType: catalog.RegistryDockerHub, Path: "spaceone/plugin-aws-ec2-inven-collector"},
			"registry.hub.docker.com/spaceone/plugin-aws-ec2-inven-collector:1.10.4"},
		{"registry.acme.io:5000/team/my-collector", "", PluginImage{RegistryType: catalog.RegistryHarbor, Host: "registry.acme.io:5000", Path: "team/my-collector"},
			"registry.acme.io:5000/team/my-collector:1.10.4"},
		{"spaceone/plugin-aws-ec2-inven-collector", "mirror.local/spaceone", PluginImage{RegistryType: catalog.RegistryHarbor, Host: "mirror.local", Path: "spaceone/plugin-aws-ec2-inven-collector"},
			"mirror.local/spaceone/plugin-aws-ec2-inven-collector:1.10.4"},
	} {
		s := &Settings{Images: Images{Registry: c.registry}}
		got, err := s.ImageOf(Plugin{Image: c.image})
		if err != nil || got != c.want {
			t.Errorf("ImageOf(%q, registry %q) = %+v, %v; want %+v", c.image, c.registry, got, err, c.want)
			continue
		}
		if r := got.Reference("1.10.4"); r != c.ref {
			t.Errorf("Reference of %q = %q, want %q", c.image, r, c.ref)
		}
		if got.ID() != "plugin-aws-ec2-inven-collector" && got.ID() != "my-collector" {
			t.Errorf("ID of %q = %q", c.image, got.ID())
		}
	}
}

// Every bad entry is named by its index and field, all in one round.
func TestPluginProblems(t *testing.T) {
	cfg := map[string]any{"plugins": []any{
		plugin("ok", "spaceone/plugin-a", "1.10.4"),
		plugin("ok", "spaceone/plugin-b", "1.10.4"),     // duplicate name
		plugin("c", "spaceone/plugin-c", "latest"),      // unpinned
		plugin("d", "spaceone/plugin-d:1.0.0", "1.0.0"), // tag in image
		plugin("e", "Spaceone/Plugin_E", "1.0.0"),       // not a reference
		plugin("f", "other/plugin-a", "1.0.0"),          // same plugin id as [0]
		map[string]any{"name": "g", "image": "x/plugin-g", "version": "1.0.0", "serviceType": "inventory.Colector"},
		plugin("h", "reg-one.local/x/plugin-h", "1.0.0"),
		plugin("i", "reg-two.local/x/plugin-i", "1.0.0"),   // a second private registry
		plugin("j", "x/"+strings.Repeat("p", 49), "1.0.0"), // plugin id too long
	}}
	_, err := Load(source(cfg), known{"identity"})
	if err == nil {
		t.Fatal("bad plugins were accepted")
	}
	for _, want := range []string{
		`plugins[1].name: "ok" is also the name of plugins[0]`,
		`plugins[2].version: plugin version "latest" is refused`,
		`plugins[3].image: "spaceone/plugin-d:1.0.0" must be an image without tag or digest; set the tag in plugins[3].version`,
		`plugins[4].image: "Spaceone/Plugin_E" is not an image reference`,
		`plugins[5].image: "other/plugin-a" has the plugin id "plugin-a" of plugins[0]`,
		`plugins[6].serviceType: "inventory.Colector" is not a plugin type of this release; use one of: inventory.Collector`,
		`plugins[8].image: "reg-two.local/x/plugin-i" is on reg-two.local, plugins[7] on reg-one.local`,
		`plugins[9].image:`,
	} {
		if !strings.Contains(err.Error(), "spaceone:"+want) {
			t.Errorf("the problems lack %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n  - "); n != 8 {
		t.Errorf("%d problems, want 8 (one per bad entry):\n%v", n, err)
	}
}

// A release whose repository reads only Docker Hub refuses plugins of a private registry.
func TestPluginRegistryTheReleaseCannotRead(t *testing.T) {
	_, err := Load(source(map[string]any{"plugins": []any{plugin("x", "reg.local/x/plugin-x", "1.0.0")}}), dockerHubOnly{known{"identity"}})
	if err == nil || !strings.Contains(err.Error(), "spaceone:plugins[0].image") || !strings.Contains(err.Error(), "release 1.12.12") {
		t.Errorf("want a refusal naming plugins[0].image and the way out, got %v", err)
	}
}

type dockerHubOnly struct{ known }

func (dockerHubOnly) PluginRegistries() []string { return []string{catalog.RegistryDockerHub} }
