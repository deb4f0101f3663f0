package simulator

import (
	_ "embed"
	"fmt"
)

//go:embed testdata/tenants.json
var exampleConfig []byte

// ExampleConfig returns the shipped example tenants (testdata/tenants.json): a source tenant "contoso"
// (contoso.example, 250 seeded users), a target "fabrikam" (fabrikam.example verified,
// unverified.example not), a multi-tenant migrator app in both, a read-only app in fabrikam, and a
// vault in fabrikam. Each call returns a fresh copy the caller may modify.
func ExampleConfig() *Config {
	cfg, err := ParseConfig(exampleConfig)
	if err != nil {
		panic(fmt.Errorf("embedded example config is invalid: %w", err)) // caught by the package tests
	}
	return cfg
}
