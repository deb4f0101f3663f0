package funchost

import (
	"maps"
	"testing"
)

func TestRouteTemplates(t *testing.T) {
	tests := []struct {
		route, path string
		want        map[string]string // nil: no match
	}{
		{"waves/{wave?}", "/waves", map[string]string{}},
		{"waves/{wave?}", "/waves/", map[string]string{}},
		{"waves/{wave?}", "/waves/w1", map[string]string{"wave": "w1"}},
		{"waves/{wave?}", "/WAVES/W1", map[string]string{"wave": "W1"}},
		{"waves/{wave?}", "/waves/w1/x", nil},
		{"waves/{wave?}", "/wavesx", nil},
		{"items/{id:int}/{tag?}", "/items/5", map[string]string{"id": "5"}},
		{"items/{id:int}/{tag?}", "/items/5/blue", map[string]string{"id": "5", "tag": "blue"}},
		{"items/{id:int}/{tag?}", "/items/x", nil},
		{"files/{*path}", "/files/a/b/c", map[string]string{"path": "a/b/c"}},
		{"docs/{name}.{ext}", "/docs/readme.md", map[string]string{"name": "readme", "ext": "md"}},
		{"users/{id:guid}", "/users/6f1c2a34-1b2c-4d5e-8f90-123456789abc", map[string]string{"id": "6f1c2a34-1b2c-4d5e-8f90-123456789abc"}},
		{"users/{id:guid}", "/users/42", nil},
		{"n/{n:min(3)}", "/n/2", nil},
		{"n/{n:int:range(1,9)}", "/n/9", map[string]string{"n": "9"}},
		{"a/{s:alpha:maxlength(3)}", "/a/abcd", nil},
		{"x/{id:weird}", "/x/anything", map[string]string{"id": "anything"}},
		{"page/{n=1}", "/page", map[string]string{"n": "1"}},
		{"HttpDefault", "/httpdefault", map[string]string{}},
	}
	for _, tt := range tests {
		var warned []string
		rt, err := parseRoute(tt.route, func(s string) { warned = append(warned, s) })
		if err != nil {
			t.Errorf("parseRoute(%q): %v", tt.route, err)
			continue
		}
		got, ok := rt.match(tt.path)
		if tt.want == nil {
			if ok {
				t.Errorf("%q matched %q: %v", tt.route, tt.path, got)
			}
			continue
		}
		if !ok || !maps.Equal(got, tt.want) {
			t.Errorf("%q on %q: got %v (%t), want %v", tt.route, tt.path, got, ok, tt.want)
		}
		if tt.route == "x/{id:weird}" && len(warned) != 1 {
			t.Errorf("unknown constraint: want one warning, got %v", warned)
		}
	}
}

func TestRouteTemplateErrors(t *testing.T) {
	for _, r := range []string{"a/{b?}/c", "a/{b", "a/{1b}", "a/x{b?}"} {
		if _, err := parseRoute(r, func(string) {}); err == nil {
			t.Errorf("parseRoute(%q) accepted", r)
		}
	}
}

func TestBlobPatterns(t *testing.T) {
	tests := []struct {
		path, blob string
		want       map[string]string
	}{
		{"mappings/{name}", "w1.csv", map[string]string{"name": "w1.csv"}},
		{"mappings/{name}", "a/b.csv", map[string]string{"name": "a/b.csv"}},
		{"mappings/{name}.csv", "w1.csv", map[string]string{"name": "w1"}},
		{"mappings/{name}.csv", "dir/w1.csv", map[string]string{"name": "dir/w1"}},
		{"mappings/{name}.csv", "w1.txt", nil},
		{"c/in/{name}.json", "in/x.json", map[string]string{"name": "x"}},
		{"c/in/{name}.json", "out/x.json", nil},
		{"c/{a}/{b}.txt", "x/y/z.txt", map[string]string{"a": "x", "b": "y/z"}},
		{"c", "anything/at/all", map[string]string{}},
	}
	for _, tt := range tests {
		p, err := parseBlobPattern(tt.path)
		if err != nil {
			t.Errorf("parseBlobPattern(%q): %v", tt.path, err)
			continue
		}
		got, ok := p.match(tt.blob)
		if (tt.want == nil) != !ok || (ok && !maps.Equal(got, tt.want)) {
			t.Errorf("%q on %q: got %v (%t), want %v", tt.path, tt.blob, got, ok, tt.want)
		}
	}
	if p, _ := parseBlobPattern("c/in/{name}.json"); p.prefix != "in/" || p.container != "c" {
		t.Errorf("prefix %q container %q", p.prefix, p.container)
	}
	for _, bad := range []string{"{c}/x", "/", "c/{na-me}", "c/{x"} {
		if _, err := parseBlobPattern(bad); err == nil {
			t.Errorf("parseBlobPattern(%q) accepted", bad)
		}
	}
}

func TestResolveTemplate(t *testing.T) {
	got, err := resolveTemplate("out/{Wave}/{name}.json", map[string]string{"wave": "w1", "name": "a/b"})
	if err != nil || got != "out/w1/a/b.json" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, _ := resolveTemplate("x/{rand-guid}", nil); len(got) != len("x/")+36 {
		t.Errorf("rand-guid: %q", got)
	}
	if _, err := resolveTemplate("x/{missing}", nil); err == nil {
		t.Error("a missing binding value was accepted")
	}
}
