package infra

import (
	"strings"
	"testing"
)

// bicepStorageNames returns the containers, queues and tables modules/storage.bicep creates, by
// following the storage account module's blobServices.containers, queueServices.queues and
// tableServices.tables to their literal names.
func bicepStorageNames(t *testing.T) (names map[string]map[string]bool, account *node) {
	t.Helper()
	f := infra(t, "modules/storage.bicep")
	if account = f.find("module_declaration", "br/public:avm/res/storage/storage-account:"); account == nil {
		t.Fatal("modules/storage.bicep has no avm/res/storage/storage-account module")
	}
	params := account.body().prop("params")
	names = map[string]map[string]bool{}
	for kind, path := range map[string][]string{
		"container": {"blobServices", "containers"},
		"queue":     {"queueServices", "queues"},
		"table":     {"tableServices", "tables"},
	} {
		names[kind] = map[string]bool{}
		list := params.path(path...)
		if list == nil {
			t.Fatalf("storage account params have no %s", strings.Join(path, "."))
		}
		for _, n := range f.stringValues(t, list) {
			names[kind][n] = true
		}
	}
	return names, account
}

// TestStorageCoversCode: every container, queue and table named in the code (constants named
// ...Container, ...Queue, ...Table) or in function.json (queue names, poison queues of queue triggers,
// blob containers) is created by Bicep, in an account with shared-key access disabled.
func TestStorageCoversCode(t *testing.T) {
	created, account := bicepStorageNames(t)
	code := codeStorageNames(t)
	for _, want := range []struct{ kind, name string }{{"container", "waves"}, {"table", "ledger"}, {"queue", "webjobs-blobtrigger-poison"}} {
		if code[want.kind][want.name] == "" {
			t.Fatalf("the code scan did not find %s %s; is the scan still right?", want.kind, want.name)
		}
	}
	functions := loadFunctionApp(t).storageNames(t)
	for _, source := range []map[string]map[string]string{code, functions} {
		for kind, names := range source {
			for name, where := range names {
				if !created[kind][name] {
					t.Errorf("%s %q (%s) is not created by infra/modules/storage.bicep", kind, name, where)
				}
			}
		}
	}
	params := account.body().prop("params")
	if v := params.prop("allowSharedKeyAccess"); v == nil || v.Leaf != "false" {
		t.Error("the storage account must set allowSharedKeyAccess: false")
	}
}
