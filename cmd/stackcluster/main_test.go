package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spaceone-pulumi/spaceone/components/settings/target"
)

// The stack file as the engine hands it to the program: what target.Of makes of it here is
// what the program makes of it (a string as it is, an object as JSON).
func TestReadStackHandsTheFileOverAsTheEngineDoes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	must(t, os.Mkdir(stackDir, 0o755))
	write := func(stack, text string) {
		must(t, os.WriteFile(filepath.Join(stackDir, "Pulumi."+stack+".yaml"), []byte(text), 0o644))
	}
	write("bare", "config: {}\n")
	write("empty", "config:\n  spaceone:kubeContext: \"\"\n") // Pulumi.yaml's default: none named
	write("ctx", "config:\n  spaceone:clusterType: local\n  spaceone:kubeContext: \"kind-dev\"\n")
	write("file", "config:\n  spaceone:kubeconfig: .sim/admin.kubeconfig\n")
	write("eks", "config:\n  spaceone:clusterType: eks\n  spaceone:eks:\n    region: eu-west-1\n"+
		"  spaceone:adminPassword:\n    secure: v1:abc\n")
	for stack, want := range map[string]target.Target{
		"bare":  {Type: "local", KubeContext: target.DefaultKubeContext},
		"empty": {Type: "local", KubeContext: target.DefaultKubeContext},
		"ctx":   {Type: "local", KubeContext: "kind-dev"},
		"file":  {Type: "local", Kubeconfig: filepath.Join(dir, ".sim/admin.kubeconfig")},
	} {
		src, err := readStack(stack)
		must(t, err)
		if got := target.Of(src); got.Type != want.Type || got.KubeContext != want.KubeContext || got.Kubeconfig != want.Kubeconfig {
			t.Errorf("%s: %+v, want %+v", stack, got, want)
		}
	}
	src, err := readStack("eks")
	must(t, err)
	if eks, _ := src.GetConfig("spaceone:eks"); eks != `{"region":"eu-west-1"}` {
		t.Errorf("an object setting is handed over as %q, want its JSON", eks)
	}
	if _, err := readStack("nosuch"); err == nil || err.Error() != "no stack configuration stacks/Pulumi.nosuch.yaml; stacks: bare ctx eks empty file" {
		t.Errorf("a missing stack: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
