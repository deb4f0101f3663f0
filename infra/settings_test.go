package infra

import (
	"sort"
	"testing"
)

// notFromBicep are settings the code reads that Bicep must not set, with the reason.
var notFromBicep = map[string]string{
	"FUNCTIONS_CUSTOMHANDLER_PORT": "set by the Functions host when it starts the handler",
	"T2T_CA_FILE":                  "local only: trusts the tenant simulator's CA",
	"T2T_PPROF":                    "local only: the benchmarks' profiling address; never exposed in Azure",
}

// identityConnections are connections the Go code resolves with shared/storageconn (a connection
// string locally, the identity-based __accountName/__credential/__clientId form in Azure, where
// shared-key access is disabled); Bicep must set the identity-based form.
var identityConnections = map[string]string{
	"AzureWebJobsStorage": "handlers.SettingsFromEnv resolves it with storageconn.FromEnv and state.OpenConn",
}

// bicepAppSettings returns the names of the app settings modules/functionapp.bicep sets (any plan,
// any option: union of conditional branches).
func bicepAppSettings(t *testing.T) map[string]bool {
	t.Helper()
	f := infra(t, "modules/functionapp.bicep")
	config := f.find("resource_declaration", "Microsoft.Web/sites/config@")
	if name, _ := config.body().prop("name").stringValue(); name != "appsettings" {
		t.Fatal("modules/functionapp.bicep has no Microsoft.Web/sites/config 'appsettings' resource")
	}
	out := map[string]bool{}
	for _, k := range f.objectKeys(t, config.body().prop("properties")) {
		out[k] = true
	}
	return out
}

// identityConnectionSet reports whether Bicep configures connection name as an identity-based
// connection (the host accepts <name>__accountName or <name>__serviceUri / __blobServiceUri...).
func identityConnectionSet(settings map[string]bool, name string) bool {
	for _, suffix := range []string{"__accountName", "__serviceUri", "__blobServiceUri"} {
		if settings[name+suffix] {
			return settings[name+"__credential"] && settings[name+"__clientId"]
		}
	}
	return false
}

// TestAppSettingsCoverCode: every app setting the handler's Go code reads, every %Setting% in a
// function.json and every storage connection a binding names is set by Bicep.
func TestAppSettingsCoverCode(t *testing.T) {
	settings := bicepAppSettings(t)
	code := handlerSettings(t)
	for _, want := range []string{"T2T_CLIENT_ID", "T2T_SOURCE_TENANT_ID", "AzureWebJobsStorage"} {
		if code[want] == "" {
			t.Fatalf("the scan of the handler's code did not find %s; is the scan still right?", want)
		}
	}
	names := make([]string, 0, len(code))
	for n := range code {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case notFromBicep[name] != "":
			if settings[name] {
				t.Errorf("%s is set by Bicep but must not be: %s", name, notFromBicep[name])
			}
		case identityConnections[name] != "":
			if !identityConnectionSet(settings, name) {
				t.Errorf("%s (read in %s): Bicep sets no identity-based connection (__accountName, __credential, __clientId)", name, code[name])
			}
		case !settings[name]:
			t.Errorf("app setting %s is read in %s but not set by infra/modules/functionapp.bicep", name, code[name])
		}
	}

	refs, connections := loadFunctionApp(t).settingRefs()
	for name, where := range refs {
		if !settings[name] {
			t.Errorf("%%%s%% (function.json %s) is not set by infra/modules/functionapp.bicep", name, where)
		}
	}
	for name, fn := range connections {
		if !settings[name] && !identityConnectionSet(settings, name) {
			t.Errorf("connection %s (function %s) is not set by infra/modules/functionapp.bicep", name, fn)
		}
	}
	if settings["AzureWebJobsStorage"] {
		t.Error("AzureWebJobsStorage must not be set: a connection string would need a storage key, and it would win over the identity-based settings")
	}
}
