package simulator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const kvAPI = "?api-version=2025-07-01"

func TestVaultChallengeAndRBAC(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.do(http.MethodPut, e.vault+"/secrets/s1"+kvAPI, "", map[string]any{"value": "v"})
	want := `Bearer authorization="` + e.graph + "/" + simtest.FabrikamID + `", resource="https://vault.azure.net"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("challenge: %d %q, want %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	if e := body["error"].(map[string]any); e["code"] != "Unauthorized" {
		t.Errorf("challenge body %v", body)
	}
	graphTok := e.migratorToken(simtest.FabrikamID)
	if resp, _ := e.do(http.MethodGet, e.vault+"/secrets"+kvAPI, graphTok, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Graph token accepted by the vault: %d", resp.StatusCode)
	}
	contosoVault := e.token(simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope)
	if resp, _ := e.do(http.MethodGet, e.vault+"/secrets"+kvAPI, contosoVault, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of another tenant accepted by the vault: %d", resp.StatusCode)
	}
	officer := e.token(simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope)
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.VaultScope)
	if resp, body := e.do(http.MethodPut, e.vault+"/secrets/s1"+kvAPI, officer, map[string]any{"value": "v1"}); resp.StatusCode != http.StatusOK || body["value"] != "v1" {
		t.Fatalf("officer set: %d %v", resp.StatusCode, body)
	}
	resp, body = e.do(http.MethodGet, e.vault+"/secrets/s1"+kvAPI, reader, nil)
	if inner := body["error"].(map[string]any)["innererror"].(map[string]any); resp.StatusCode != http.StatusForbidden || inner["code"] != "ForbiddenByRbac" {
		t.Errorf("reader got a value: %d %v", resp.StatusCode, body)
	}
	resp, body = e.do(http.MethodGet, e.vault+"/secrets"+kvAPI, reader, nil)
	if resp.StatusCode != http.StatusOK || len(body["value"].([]any)) != 1 || strings.Contains(strings.ToLower(stringify(body)), "v1") {
		t.Errorf("reader list: %d %v", resp.StatusCode, body)
	}
	if resp, _ := e.do(http.MethodGet, e.vault+"/secrets/s1", officer, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("missing api-version: %d", resp.StatusCode)
	}
	if resp, _ := e.do(http.MethodPut, e.vault+"/secrets/bad_name"+kvAPI, officer, map[string]any{"value": "v"}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid name: %d", resp.StatusCode)
	}
}

func TestVaultSoftDelete(t *testing.T) {
	e := newEnv(t, nil)
	officer := e.token(simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope)
	e.do(http.MethodPut, e.vault+"/secrets/gone"+kvAPI, officer, map[string]any{"value": "v"})
	resp, body := e.do(http.MethodDelete, e.vault+"/secrets/gone"+kvAPI, officer, nil)
	if resp.StatusCode != http.StatusOK || body["recoveryId"] == nil || body["value"] != nil {
		t.Fatalf("delete: %d %v", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodGet, e.vault+"/secrets/gone"+kvAPI, officer, nil); resp.StatusCode != http.StatusNotFound ||
		body["error"].(map[string]any)["code"] != "SecretNotFound" {
		t.Errorf("get deleted: %d %v", resp.StatusCode, body)
	}
	resp, body = e.do(http.MethodPut, e.vault+"/secrets/gone"+kvAPI, officer, map[string]any{"value": "again"})
	if resp.StatusCode != http.StatusConflict || body["error"].(map[string]any)["innererror"].(map[string]any)["code"] != "ObjectIsDeletedButRecoverable" {
		t.Errorf("reuse deleted name: %d %v", resp.StatusCode, body)
	}
	if resp, _ := e.do(http.MethodDelete, e.vault+"/deletedsecrets/gone"+kvAPI, officer, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("purge: %d", resp.StatusCode)
	}
	if resp, _ := e.do(http.MethodPut, e.vault+"/secrets/gone"+kvAPI, officer, map[string]any{"value": "again"}); resp.StatusCode != http.StatusOK {
		t.Errorf("set after purge: %d", resp.StatusCode)
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := simulator.ExampleConfig()
	first, err := simulator.New(cfg, &simulator.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: first, graph: first.URLs().GraphURL, vault: first.URLs().VaultURL, client: first.HTTPClient()}
	tok := e.migratorToken(simtest.FabrikamID)
	_, created := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("survivor@fabrikam.example"))
	vaultTok := e.token(simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope)
	e.do(http.MethodPut, e.vault+"/secrets/kept"+kvAPI, vaultTok, map[string]any{"value": "still-here"})
	caBefore := string(first.CAPEM())
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	second := simtest.Start(t, cfg, &simulator.Options{StateDir: dir})
	if string(second.CAPEM()) != caBefore {
		t.Error("CA changed across restart")
	}
	e2 := &env{t: t, srv: second, graph: second.URLs().GraphURL, vault: second.URLs().VaultURL, client: second.HTTPClient()}
	// The token issued before the restart is still valid: the signing key persisted too.
	resp, got := e2.do(http.MethodGet, e2.graph+"/v1.0/users/survivor@fabrikam.example", tok, nil)
	if resp.StatusCode != http.StatusOK || got["id"] != created["id"] {
		t.Fatalf("after restart: %d %v", resp.StatusCode, got)
	}
	if resp, body := e2.do(http.MethodGet, e2.vault+"/secrets/kept"+kvAPI, vaultTok, nil); body["value"] != "still-here" {
		t.Errorf("vault after restart: %d %v", resp.StatusCode, body)
	}
}

func stringify(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				b.WriteString(k + "=")
				walk(val)
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		case string:
			b.WriteString(x + ";")
		}
	}
	walk(v)
	return b.String()
}
