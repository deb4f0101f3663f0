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
	recordRE    = regexp.MustCompile(`\|\s*extend\s+r\s*=\s*parse_json\(message\)`)
	fieldRE     = regexp.MustCompile(`\br\.([A-Za-z_][A-Za-z0-9_]*)`)
	msgFilterRE = regexp.MustCompile(`\bmsg\s*(==|in)\s*\(?\s*("[^"]*"(?:\s*,\s*"[^"]*")*)`)
	quotedRE    = regexp.MustCompile(`"([^"]*)"`)
)

// TestWorkbookQueriesUseLogFields: every workbook query reads handler records (JSON) only as
// r = parse_json(message), naming only fields of shared/logfields (r.<field>) and filtering only on
// its messages;
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
		if !recordRE.MatchString(q) {
			t.Errorf("panel %s does not read the handler's records with | extend r = parse_json(message)", it.Name)
		}
		for _, m := range fieldRE.FindAllStringSubmatch(q, -1) {
			if !declared[m[1]] {
				t.Errorf("panel %s names log field %q, which shared/logfields does not declare", it.Name, m[1])
			}
		}
		for _, m := range msgFilterRE.FindAllStringSubmatch(q, -1) {
			for _, v := range quotedRE.FindAllStringSubmatch(m[2], -1) {
				if _, ok := logfields.Messages[v[1]]; !ok {
					t.Errorf("panel %s filters on message %q, which shared/logfields does not declare", it.Name, v[1])
				}
			}
		}
		for _, forbidden := range []string{"extract(", "customDimensions", "parse-kv"} {
			if strings.Contains(q, forbidden) {
				t.Errorf("panel %s uses %s: read fields as r.<field> of parse_json(message) so this test can check them", it.Name, forbidden)
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
