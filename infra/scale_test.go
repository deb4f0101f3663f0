package infra

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"t2t/shared/graph"
)

// Graph's write quota per app per tenant: 3,000 requests per 150 s, i.e. 20 writes/s (DESIGN section 7).
const graphWritesQuota = 20

// writesPerStep: an import step handles one chunk (wave.ChunkSize users), one write each.
const writesPerStep = 20

// intParam returns a main.bicep int param's default and its @maxValue (0 when none).
func intParam(t *testing.T, f *bicepFile, name string) (def, max int) {
	t.Helper()
	var decorators *node
	for i, c := range f.Tree.Children {
		if c.Type == "parameter_declaration" && c.name() == name {
			if i > 0 && f.Tree.Children[i-1].Type == "decorators" {
				decorators = f.Tree.Children[i-1]
			}
			v := c.value()
			if v == nil || v.Type != "number" {
				t.Fatalf("param %s needs a number default", name)
			}
			def, _ = strconv.Atoi(v.Leaf)
		}
	}
	if decorators != nil {
		decorators.walk(func(n *node) {
			if n.Type == "call_expression" && n.Children[0].Leaf == "maxValue" {
				max, _ = strconv.Atoi(n.kids("arguments")[0].Children[0].Leaf)
			}
		})
	}
	return def, max
}

// TestInstancesTimesPaceWithinGraphQuota: each instance paces its own Graph writes, so the maximum
// instance count times the per-instance pace (T2T_GRAPH_WRITES_PER_SEC) must stay within Graph's
// 20 writes/s per app per tenant, for every allowed instance count; the pace reaches the app setting
// and the instance limit reaches the plan; and the queue batch an instance runs keeps invocations
// short while they wait for the pacer.
func TestInstancesTimesPaceWithinGraphQuota(t *testing.T) {
	main := infra(t, "main.bicep")
	instances, maxInstances := intParam(t, main, "maximumInstanceCount")
	budget, maxBudget := intParam(t, main, "graphWriteBudget")
	if maxBudget == 0 || maxBudget > graphWritesQuota {
		t.Errorf("graphWriteBudget @maxValue %d; it must be at most %d", maxBudget, graphWritesQuota)
	}
	if budget != graph.DefaultWritesPerSecond {
		t.Errorf("graphWriteBudget default %d, want the code's DefaultWritesPerSecond %d", budget, graph.DefaultWritesPerSecond)
	}
	pace := main.declaration("variable_declaration", "graphWritesPerSecond")
	if pace == nil || pace.value().Text != "max(1, graphWriteBudget / maximumInstanceCount)" {
		t.Fatal("main.bicep must derive var graphWritesPerSecond = max(1, graphWriteBudget / maximumInstanceCount) (integer division: floor)")
	}
	if maxInstances == 0 {
		t.Fatal("maximumInstanceCount needs a @maxValue")
	}
	for n := 1; n <= maxInstances; n++ {
		for b := 1; b <= maxBudget; b++ {
			if p := max(1, b/n); n*p > graphWritesQuota {
				t.Fatalf("%d instances x pace %d (budget %d) breaks the %d writes/s quota or stops writing", n, p, b, graphWritesQuota)
			}
		}
	}
	if instances != 1 {
		t.Errorf("maximumInstanceCount default %d, want 1 (one instance at full pace)", instances)
	}

	params := main.find("module_declaration", "modules/functionapp.bicep").body().prop("params")
	for _, p := range []string{"graphWritesPerSecond", "maximumInstanceCount", "queueBatchSize", "queueNewBatchThreshold"} {
		if v := params.prop(p); v == nil || v.Leaf != p {
			t.Errorf("main.bicep must pass %s: %s to modules/functionapp.bicep", p, p)
		}
	}
	app := infra(t, "modules/functionapp.bicep")
	settings := app.declaration("variable_declaration", "commonSettings").value()
	for setting, want := range map[string]string{
		"T2T_GRAPH_WRITES_PER_SEC":                                     "string(graphWritesPerSecond)",
		"AzureFunctionsJobHost__extensions__queues__batchSize":         "string(queueBatchSize)",
		"AzureFunctionsJobHost__extensions__queues__newBatchThreshold": "string(queueNewBatchThreshold)",
	} {
		if v := settings.prop(setting); v == nil || v.Text != want {
			t.Errorf("app setting %s must be %s", setting, want)
		}
	}
	props := app.find("resource_declaration", "Microsoft.Web/sites@").body().prop("properties")
	flex := props.prop("functionAppConfig").Children[1] // isFlex ? {...} : null
	if v := flex.path("scaleAndConcurrency", "maximumInstanceCount"); v == nil || v.Leaf != "maximumInstanceCount" {
		t.Error("functionAppConfig.scaleAndConcurrency.maximumInstanceCount must be maximumInstanceCount")
	}
	if v := props.path("siteConfig", "functionAppScaleLimit"); v == nil || !strings.Contains(v.Text, "maximumInstanceCount") {
		t.Error("Elastic Premium: siteConfig.functionAppScaleLimit must be maximumInstanceCount")
	}
	if v := flex.path("runtime", "name"); v == nil || v.Text != "'custom'" {
		t.Error("Flex Consumption runtime must be custom (the Go custom handler)")
	}

	// Same queue batch as host.json (local runs rehearse what Azure runs), and a full batch clears
	// the pacer in seconds, not minutes (DESIGN section 8).
	var host struct {
		Extensions struct {
			Queues struct{ BatchSize, NewBatchThreshold int }
		}
	}
	raw, err := os.ReadFile("../host.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &host); err != nil {
		t.Fatal(err)
	}
	batch, _ := intParam(t, main, "queueBatchSize")
	threshold, _ := intParam(t, main, "queueNewBatchThreshold")
	if batch != host.Extensions.Queues.BatchSize || threshold != host.Extensions.Queues.NewBatchThreshold {
		t.Errorf("Bicep queue batch %d+%d, host.json %d+%d: keep them equal", batch, threshold,
			host.Extensions.Queues.BatchSize, host.Extensions.Queues.NewBatchThreshold)
	}
	if wait := float64((batch+threshold)*writesPerStep) / float64(max(1, budget/instances)); wait > 60 {
		t.Errorf("a full queue batch waits %.0f s for the pacer; keep it under a minute", wait)
	}
}

// TestParametersFile: main.parameters.json gives every main.bicep param without a default, names only
// real params, and stays valid JSON once azd substitutes ${VAR} / ${VAR=default}.
func TestParametersFile(t *testing.T) {
	raw, err := os.ReadFile("main.parameters.json")
	if err != nil {
		t.Fatal(err)
	}
	substituted := regexp.MustCompile(`\$\{([A-Z0-9_]+)(?:=([^}]*))?\}`).ReplaceAllStringFunc(string(raw), func(m string) string {
		if _, def, ok := strings.Cut(m[2:len(m)-1], "="); ok {
			return def
		}
		return "x"
	})
	var doc struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(substituted), &doc); err != nil {
		t.Fatalf("main.parameters.json after substitution: %v\n%s", err, substituted)
	}
	main := infra(t, "main.bicep")
	params := map[string]bool{}
	for _, p := range main.Tree.kids("parameter_declaration") {
		params[p.name()] = true
		if p.value() == nil {
			if _, ok := doc.Parameters[p.name()]; !ok {
				t.Errorf("param %s has no default and is not in main.parameters.json", p.name())
			}
		}
	}
	for name := range doc.Parameters {
		if !params[name] {
			t.Errorf("main.parameters.json sets %s, which main.bicep does not declare", name)
		}
	}
}
