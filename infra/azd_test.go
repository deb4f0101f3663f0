package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAzureYAML: azd packages with `make package` and deploys the zip it writes to the function app
// that carries the service's azd-service-name tag, from infra/main.bicep, and runs the post-deploy
// hook that subscribes WaveStart. (azure.yaml is checked as text: the module has no YAML parser.)
func TestAzureYAML(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "azure.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(raw)
	for _, want := range []string{"provider: bicep", "path: infra", "module: main", "host: function",
		"language: custom", "run: make package", "dist: dist/app.zip", "run: sh infra/hooks/postdeploy.sh"} {
		if !strings.Contains(y, want) {
			t.Errorf("azure.yaml lacks %q", want)
		}
	}
	service := regexp.MustCompile(`(?m)^services:\n  ([a-z0-9-]+):`).FindStringSubmatch(y)
	if service == nil {
		t.Fatal("azure.yaml names no service")
	}
	app := infra(t, "modules/functionapp.bicep")
	site := app.find("resource_declaration", "Microsoft.Web/sites@")
	if tags := site.body().prop("tags"); tags == nil || !strings.Contains(tags.Text, "'azd-service-name': '"+service[1]+"'") {
		t.Errorf("the function app must be tagged azd-service-name: %s (the azure.yaml service)", service[1])
	}

	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := regexp.MustCompile(`(?ms)^package:\n(.*?)\n\n`).FindStringSubmatch(string(makefile))
	if pkg == nil || !strings.Contains(pkg[1], "zip -qr ../app.zip .") || !strings.Contains(pkg[1], "cp host.json dist/app/") ||
		!strings.Contains(pkg[1], "cp -r functions/* dist/app/") || !strings.Contains(pkg[1], "GOOS=linux GOARCH=amd64") {
		t.Error("make package must put host.json, the function folders and the linux/amd64 handler at the root of dist/app.zip")
	}
	if info, err := os.Stat(filepath.Join("hooks", "postdeploy.sh")); err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("infra/hooks/postdeploy.sh must exist and be executable: %v", err)
	}
}
