package infra

import (
	"context"
	"go/ast"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"t2t/handlers"
)

// TestHostJSON: host.json starts the binary `make package` builds, speaks the invocation protocol
// (no HTTP forwarding: WaveStatus answers through its http output binding) and loads the extension
// bundle that provides the queue and blob bindings.
func TestHostJSON(t *testing.T) {
	host := loadFunctionApp(t).host
	if host["version"] != "2.0" {
		t.Errorf("host.json version %v, want 2.0", host["version"])
	}
	ch, _ := host["customHandler"].(map[string]any)
	desc, _ := ch["description"].(map[string]any)
	exe, _ := desc["defaultExecutablePath"].(string)
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if exe == "" || !strings.Contains(string(makefile), "-o dist/app/"+exe+" ./cmd/handler") {
		t.Errorf("customHandler.description.defaultExecutablePath %q is not the binary `make package` builds from ./cmd/handler", exe)
	}
	if fwd, _ := ch["enableForwardingHttpRequest"].(bool); fwd {
		t.Error("customHandler.enableForwardingHttpRequest must be false: the handler answers HTTP triggers through the invocation protocol")
	}
	if bundle, _ := host["extensionBundle"].(map[string]any); bundle["id"] != "Microsoft.Azure.Functions.ExtensionBundle" {
		t.Error("host.json must load Microsoft.Azure.Functions.ExtensionBundle (queue and blob bindings for custom handlers)")
	}
	ext, _ := host["extensions"].(map[string]any)
	queues, _ := ext["queues"].(map[string]any)
	if queues["messageEncoding"] != "base64" {
		t.Errorf("queues.messageEncoding %v: the handler's outputs and the CLI enqueue base64 (DESIGN section 8)", queues["messageEncoding"])
	}
}

// TestHandlerRoutesMatchFunctions: every function folder has a handler route (POST /<Name> is not
// 404), and every function method of handlers.App has a function folder.
func TestHandlerRoutesMatchFunctions(t *testing.T) {
	fa := loadFunctionApp(t)
	app := &handlers.App{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	for _, name := range fa.names() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/"+name, strings.NewReader(`{"Data": {}, "Metadata": {}}`))
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("functions/%s has no handler route: POST /%s answered %d", name, name, resp.StatusCode)
		}
	}

	// A function method: func (a *App) Name(ctx context.Context, inv *invocation) error.
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	errType := reflect.TypeOf((*error)(nil)).Elem()
	typ := reflect.TypeOf(app)
	found := 0
	for i := 0; i < typ.NumMethod(); i++ {
		m := typ.Method(i).Type
		if m.NumIn() != 3 || m.In(1) != ctxType || m.In(2).String() != "*handlers.invocation" || m.NumOut() != 1 || m.Out(0) != errType {
			continue
		}
		found++
		if _, ok := fa.functions[typ.Method(i).Name]; !ok {
			t.Errorf("handlers.App.%s is a function but functions/%s/function.json does not exist", typ.Method(i).Name, typ.Method(i).Name)
		}
	}
	if found == 0 {
		t.Error("found no function methods on handlers.App; update this test to the handler's new shape")
	}
}

// hostMetadata are invocation metadata keys the host sends besides {name} parameters of the trigger path.
var hostMetadata = map[string]bool{"Uri": true, "Properties": true, "Metadata": true, "DequeueCount": true,
	"Id": true, "PopReceipt": true, "InsertionTime": true, "ExpirationTime": true, "NextVisibleTime": true,
	"Query": true, "Headers": true, "sys": true}

var pathParamRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\??\}`)

// TestFunctionBindingsMatchHandlers: each function.json has exactly one trigger, and the binding
// names a handler file reads and writes (inv.req.JSON/Bytes/HTTP/String("x"), inv.output("x"),
// inv.outputs["x"], inv.req.MetaString("x")) exist in the function.json of the function it implements.
func TestFunctionBindingsMatchHandlers(t *testing.T) {
	fa := loadFunctionApp(t)
	for name, bs := range fa.functions {
		triggers := 0
		for _, b := range bs {
			if b.str("name") == "" || b.str("type") == "" || b.str("direction") == "" {
				t.Errorf("%s: binding %v needs name, type and direction", name, b)
			}
			if strings.HasSuffix(strings.ToLower(b.str("type")), "trigger") {
				triggers++
			}
		}
		if triggers != 1 {
			t.Errorf("%s has %d triggers, want 1", name, triggers)
		}
	}

	for path, f := range goFiles(t, modulePackages(t, false, "./handlers")) {
		var fns []string
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
				if _, isFunction := fa.functions[fd.Name.Name]; isFunction {
					fns = append(fns, fd.Name.Name)
				}
			}
		}
		if len(fns) == 0 {
			continue
		}
		used, meta := bindingNamesIn(f)
		for _, fn := range fns {
			names, params := map[string]bool{}, map[string]bool{}
			for _, b := range fa.functions[fn] {
				names[b.str("name")] = true
				for _, key := range []string{"path", "route"} {
					for _, m := range pathParamRE.FindAllStringSubmatch(b.str(key), -1) {
						params[m[1]] = true
					}
				}
			}
			for n, line := range used {
				if !names[n] {
					t.Errorf("%s:%d uses binding %q, which functions/%s/function.json does not declare", filepath.Base(path), line, n, fn)
				}
			}
			for n, line := range meta {
				if !params[n] && !hostMetadata[n] {
					t.Errorf("%s:%d reads metadata %q: not a {%s} of %s's trigger path or a host metadata key", filepath.Base(path), line, n, n, fn)
				}
			}
		}
	}
}

// bindingNamesIn returns the binding names and metadata keys a handler file uses, with a line each.
func bindingNamesIn(f *ast.File) (bindings, metadata map[string]int) {
	bindings, metadata = map[string]int{}, map[string]int{}
	firstString := func(args []ast.Expr) (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		lit, ok := args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			name, ok := firstString(x.Args)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "output", "JSON", "Bytes", "HTTP", "String":
				bindings[name] = goFset.Position(x.Pos()).Line
			case "MetaString":
				metadata[name] = goFset.Position(x.Pos()).Line
			}
		case *ast.IndexExpr:
			if sel, ok := x.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "outputs" {
				if name, ok := firstString([]ast.Expr{x.Index}); ok {
					bindings[name] = goFset.Position(x.Pos()).Line
				}
			}
		}
		return true
	})
	return bindings, metadata
}

// TestEventGridBlobTriggers: blob triggers use the Event Grid source (the only one on Flex
// Consumption), and eventgrid-subscription.bicep subscribes that function to that container.
func TestEventGridBlobTriggers(t *testing.T) {
	fa := loadFunctionApp(t)
	type trigger struct{ function, container string }
	var eventGrid []trigger
	for name, bs := range fa.functions {
		for _, b := range bs {
			if strings.EqualFold(b.str("type"), "blobTrigger") {
				if !strings.EqualFold(b.str("source"), "EventGrid") {
					t.Errorf("%s: blob trigger source %q; Flex Consumption needs \"source\": \"EventGrid\"", name, b.str("source"))
				}
				container, _, _ := strings.Cut(b.str("path"), "/")
				eventGrid = append(eventGrid, trigger{name, container})
			}
		}
	}
	if len(eventGrid) != 1 {
		t.Fatalf("blob triggers %v: eventgrid-subscription.bicep subscribes exactly one; add a subscription per trigger", eventGrid)
	}
	f := infra(t, "eventgrid-subscription.bicep")
	param := func(name string) string {
		d := f.declaration("parameter_declaration", name)
		if d == nil || d.value() == nil {
			t.Fatalf("eventgrid-subscription.bicep: param %s needs a default", name)
		}
		v, _ := d.value().stringValue()
		return v
	}
	if got := (trigger{param("functionName"), param("containerName")}); got != eventGrid[0] {
		t.Errorf("the subscription is for %+v, the blob trigger is %+v", got, eventGrid[0])
	}
	sub := f.find("resource_declaration", "Microsoft.EventGrid/systemTopics/eventSubscriptions@")
	if sub == nil {
		t.Fatal("eventgrid-subscription.bicep has no event subscription")
	}
	props := sub.body().prop("properties")
	if s := props.path("filter", "subjectBeginsWith"); s == nil || s.Text != "'/blobServices/default/containers/${containerName}/'" {
		t.Error("the subscription must filter on /blobServices/default/containers/${containerName}/")
	}
	if u := props.path("destination", "properties", "endpointUrl"); u == nil ||
		!strings.Contains(u.Text, "/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}") {
		t.Error("the subscription must deliver to the blob extension webhook of Host.Functions.${functionName}")
	}
	if types := props.path("filter", "includedEventTypes"); types == nil || strings.Join(f.stringValues(t, types), ",") != "Microsoft.Storage.BlobCreated" {
		t.Error("the subscription must deliver Microsoft.Storage.BlobCreated only")
	}
}
