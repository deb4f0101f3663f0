package infra

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"t2t/shared/logfields"
)

var (
	parseKVRE   = regexp.MustCompile(`parse-kv\s+(\w+)\s+as\s*\(([^)]*)\)`)
	msgFilterRE = regexp.MustCompile(`\bmsg\s*(==|in)\s*\(?\s*("[^"]*"(?:\s*,\s*"[^"]*")*)`)
	quotedRE    = regexp.MustCompile(`"([^"]*)"`)
)

// TestWorkbookQueriesUseLogFields: every workbook query reads handler records only through parse-kv
// of the trace message, naming only fields of shared/logfields and filtering only on its messages;
// the workbook charts waves, phases, failures and throttling; monitoring.bicep fills in its
// Application Insights resource.
func TestWorkbookQueriesUseLogFields(t *testing.T) {
	raw, err := os.ReadFile("workbook.json")
	if err != nil {
		t.Fatal(err)
	}
	var wb struct {
		Version             string   `json:"version"`
		FallbackResourceIDs []string `json:"fallbackResourceIds"`
		Items               []struct {
			Name    string `json:"name"`
			Content struct {
				Version string `json:"version"`
				Query   string `json:"query"`
			} `json:"content"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &wb); err != nil {
		t.Fatal(err)
	}
	if wb.Version != "Notebook/1.0" {
		t.Errorf("workbook version %q, want Notebook/1.0", wb.Version)
	}
	declared := map[string]bool{}
	for _, f := range logfields.Fields {
		declared[f.Name] = true
	}
	panels := map[string]bool{}
	for _, it := range wb.Items {
		if it.Content.Version != "KqlItem/1.0" {
			continue
		}
		panels[it.Name] = true
		q := it.Content.Query
		kv := parseKVRE.FindAllStringSubmatch(q, -1)
		if len(kv) == 0 {
			t.Errorf("panel %s does not read the handler's records with parse-kv", it.Name)
		}
		for _, m := range kv {
			if m[1] != "message" {
				t.Errorf("panel %s: parse-kv of %q; the handler's records are in message", it.Name, m[1])
			}
			for _, col := range strings.Split(m[2], ",") {
				name, _, _ := strings.Cut(strings.TrimSpace(col), ":")
				if !declared[name] {
					t.Errorf("panel %s names log field %q, which shared/logfields does not declare", it.Name, name)
				}
			}
		}
		for _, m := range msgFilterRE.FindAllStringSubmatch(q, -1) {
			for _, v := range quotedRE.FindAllStringSubmatch(m[2], -1) {
				if _, ok := logfields.Messages[v[1]]; !ok {
					t.Errorf("panel %s filters on message %q, which shared/logfields does not declare", it.Name, v[1])
				}
			}
		}
		for _, forbidden := range []string{"extract(", "customDimensions", "parse_json(message"} {
			if strings.Contains(q, forbidden) {
				t.Errorf("panel %s uses %s: read fields with parse-kv so this test can check them", it.Name, forbidden)
			}
		}
	}
	for _, want := range []string{"waves", "phases", "failures", "throttling"} {
		if !panels[want] {
			t.Errorf("the workbook has no %q panel", want)
		}
	}

	const placeholder = "__APP_INSIGHTS_RESOURCE_ID__"
	if len(wb.FallbackResourceIDs) != 1 || wb.FallbackResourceIDs[0] != placeholder {
		t.Errorf("fallbackResourceIds %v, want [%s]", wb.FallbackResourceIDs, placeholder)
	}
	f := infra(t, "modules/monitoring.bicep")
	data := f.find("resource_declaration", "Microsoft.Insights/workbooks@").body().path("properties", "serializedData")
	if data == nil || !strings.Contains(data.Text, "loadTextContent('../workbook.json')") || !strings.Contains(data.Text, placeholder) {
		t.Error("monitoring.bicep must deploy workbook.json with its placeholder replaced by the Application Insights id")
	}
}
