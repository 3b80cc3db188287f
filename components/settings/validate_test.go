package settings

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gopkg.in/yaml.v3"
)

func TestCheckQuantity(t *testing.T) {
	for _, c := range []struct {
		v    string
		kind quantityKind
		want string // "" = accepted; else a part of the message
	}{
		{"100m", cpuQuantity, ""}, {"0.5", cpuQuantity, ""}, {"2", cpuQuantity, ""},
		{"0", cpuQuantity, "more than 0"}, {"-1", cpuQuantity, "more than 0"}, {"fast", cpuQuantity, "not a Kubernetes quantity"},
		{"256Mi", memoryQuantity, ""}, {"1Gi", memoryQuantity, ""}, {"128Mi", memoryQuantity, ""},
		{"512m", memoryQuantity, "fraction of a byte"}, {"64Mi", memoryQuantity, "cannot start"}, {"1 GB", memoryQuantity, "256Mi"},
		{"8Gi", sizeQuantity, ""}, {"0", sizeQuantity, "more than 0"}, {"1.5m", sizeQuantity, "fraction of a byte"},
	} {
		_, err := CheckQuantity(c.v, c.kind)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q (kind %d) refused: %v", c.v, c.kind, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q (kind %d): err = %v, want one saying %q", c.v, c.kind, err, c.want)
		}
	}
}

func TestCheckNamespace(t *testing.T) {
	for ns, want := range map[string]string{
		"spaceone": "", "root-supervisor": "", "default": "system namespace", "kube-system": "system namespace",
		"kube-public": "system namespace", "kube-node-lease": "system namespace", "Space_ONE": "lower-case",
	} {
		err := CheckNamespace(ns)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: err = %v, want %q", ns, err, want)
		}
	}
}

// readProject decodes Pulumi.yaml, the project file a user's `pulumi config` reads, into project.
func readProject(t *testing.T, project any) {
	t.Helper()
	b, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, project); err != nil {
		t.Fatal(err)
	}
}

// TopLevelKeys is Pulumi.yaml's config block plus the secrets, no more, no less.
func TestTopLevelKeysArePulumiYAMLs(t *testing.T) {
	var project struct {
		Config map[string]any `yaml:"config"`
	}
	readProject(t, &project)
	want := []string{"adminPassword", "marketplaceToken", "mongodbPassword", "credentialSeed"}
	for k := range project.Config {
		if !strings.Contains(k, ":") { // pulumi:disable-default-providers is the engine's
			want = append(want, k)
		}
	}
	got := slices.Clone(TopLevelKeys)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("TopLevelKeys = %v, want %v", got, want)
	}
}

func TestSuggest(t *testing.T) {
	for word, want := range map[string]string{"namespce": "namespace", "Namespace": "namespace", "consol": "console", "zzzzzz": ""} {
		got := suggest(word, TopLevelKeys)
		if want == "" && got != "" || want != "" && !strings.Contains(got, `"`+want+`"`) {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

// The backup defaults in Pulumi.yaml (what `pulumi config` shows a user) are the program's.
func TestBackupDefaultsArePulumiYAMLs(t *testing.T) {
	var project struct {
		Config struct {
			Backup struct {
				Default struct {
					Schedule string `yaml:"schedule"`
					Keep     int    `yaml:"keep"`
					Size     string `yaml:"size"`
					S3       any    `yaml:"s3"`
				} `yaml:"default"`
			} `yaml:"backup"`
		} `yaml:"config"`
	}
	readProject(t, &project)
	d := project.Config.Backup.Default
	// Where backups go depends on the cluster: the default names no place (a size or a bucket).
	if d.Schedule != "" || d.Keep != DefaultBackupKeep || d.Size != "" || d.S3 != nil {
		t.Errorf("Pulumi.yaml's backup default is %+v; the program's is keep %d, no schedule, no size, no s3", d, DefaultBackupKeep)
	}
}

// The release Pulumi.yaml shows a user as the default is the program's.
func TestDefaultReleaseIsPulumiYAMLs(t *testing.T) {
	var project struct {
		Config struct {
			Release struct {
				Default string `yaml:"default"`
			} `yaml:"release"`
		} `yaml:"config"`
	}
	readProject(t, &project)
	if project.Config.Release.Default != DefaultRelease {
		t.Errorf("Pulumi.yaml's release default is %q; the program's is %q", project.Config.Release.Default, DefaultRelease)
	}
}

// Every default in Pulumi.yaml (what the engine hands the program when the stack sets nothing,
// and what `pulumi config` shows) is the program's: the settings Load makes of that value are
// the settings it makes of no value, for every key, so a default written in both places
// cannot drift. Load's own defaults are what unit tests and the Automation API get.
func TestPulumiYAMLDefaultsAreLoads(t *testing.T) {
	var project struct {
		Config map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"config"`
	}
	readProject(t, &project)
	unset, err := Load(source(nil), known{"identity"})
	if err != nil {
		t.Fatal(err)
	}
	for key, c := range project.Config {
		if strings.Contains(key, ":") || c.Default == nil { // the engine's own keys; no default
			continue
		}
		set, err := Load(source(map[string]any{key: c.Default}), known{"identity"})
		if err != nil {
			t.Errorf("Pulumi.yaml's default of %s (%v) is refused: %v", key, c.Default, err)
			continue
		}
		// An empty list or map is no list or map to the program.
		if diff := cmp.Diff(unset, set, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(Settings{}, Stores{}), cmpopts.IgnoreTypes(pulumi.StringOutput{})); diff != "" {
			t.Errorf("Pulumi.yaml's default of %s (%v) is not the program's (-without it +with it):\n%s", key, c.Default, diff)
		}
	}
}
