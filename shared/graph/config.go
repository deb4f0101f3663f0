// Package graph builds Microsoft Graph clients for the source and target tenants and is the one place
// that knows how Graph fails: it owns the retrying, rate-limited HTTP transport and the classification
// of Graph errors. Only packages that talk to Graph import it (msgraph-sdk-go is slow to compile).
package graph

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PublicAuthorityHost and PublicGraphBaseURL are the Azure public cloud endpoints.
const (
	PublicAuthorityHost = "https://login.microsoftonline.com/"
	PublicGraphBaseURL  = "https://graph.microsoft.com/v1.0"
)

// Config says how to reach Graph and how to authenticate. Locally every endpoint points at the tenant
// simulator; in Azure the defaults apply.
type Config struct {
	// AuthorityHost is the Entra authority (T2T_AUTHORITY_HOST).
	AuthorityHost string
	// GraphBaseURL is the v1.0 service root (T2T_GRAPH_BASE_URL); beta is derived from it.
	GraphBaseURL string
	// ClientID is the multi-tenant app registration (T2T_CLIENT_ID).
	ClientID string
	// ClientSecret authenticates the app (T2T_CLIENT_SECRET). Empty in Azure, where a federated managed
	// identity assertion is used instead; when set there it is a Key Vault reference resolved by the
	// platform. Never logged.
	ClientSecret string
	// ManagedIdentityClientID names the user-assigned managed identity whose token is the federated
	// assertion (T2T_MANAGED_IDENTITY_CLIENT_ID, else AZURE_CLIENT_ID). Empty means the system-assigned
	// identity.
	ManagedIdentityClientID string
	// Assertion, when set, supplies the federated client assertion instead of the managed identity
	// (tests, other workload identity sources). It must return a fresh token for
	// TokenExchangeAudience on every call. Ignored when ClientSecret is set.
	Assertion func(ctx context.Context) (string, error)
	// CAFile is an extra PEM CA bundle to trust (T2T_CA_FILE), for the simulator's self-made CA.
	CAFile string
	// WritesPerSecond caps writes per tenant from this process (T2T_GRAPH_WRITES_PER_SEC). Graph allows
	// 3,000 writes per 150 s per app per tenant (20/s); the default keeps just under it.
	WritesPerSecond float64
	// WriteBurst is how many writes the pacer may send at once before holding WritesPerSecond
	// (T2T_GRAPH_WRITE_BURST; default 0: the steady rate from the first write). Graph's quota bucket
	// holds 3,000 writes per app per tenant; keep instances x burst under it.
	WriteBurst float64
	// PolicyPerSecond caps requests to conditional access policies and named locations per tenant from
	// this process (T2T_GRAPH_POLICY_PER_SEC; 0 disables it). Graph allows 1 per second there.
	PolicyPerSecond float64
	// MaxAttempts bounds the transport's tries of one request (T2T_GRAPH_MAX_ATTEMPTS).
	MaxAttempts int
}

// TokenExchangeAudience is the audience of the managed identity token that serves as the federated
// assertion, and of the app's federated identity credential (public cloud; sovereign clouds use
// their own, e.g. api://AzureADTokenExchangeUSGov).
const TokenExchangeAudience = "api://AzureADTokenExchange"

// DefaultWritesPerSecond keeps a single process just under Graph's documented write quota.
const DefaultWritesPerSecond = 19

// DefaultPolicyPerSecond is Graph's documented limit for conditional access and named locations.
const DefaultPolicyPerSecond = 1

// ConfigFromEnv reads Config from the process environment (Functions app settings).
func ConfigFromEnv() (Config, error) {
	c := Config{
		AuthorityHost:           envOr("T2T_AUTHORITY_HOST", PublicAuthorityHost),
		GraphBaseURL:            strings.TrimRight(envOr("T2T_GRAPH_BASE_URL", PublicGraphBaseURL), "/"),
		ClientID:                os.Getenv("T2T_CLIENT_ID"),
		ClientSecret:            os.Getenv("T2T_CLIENT_SECRET"),
		ManagedIdentityClientID: envOr("T2T_MANAGED_IDENTITY_CLIENT_ID", os.Getenv("AZURE_CLIENT_ID")),
		CAFile:                  os.Getenv("T2T_CA_FILE"),
		WritesPerSecond:         DefaultWritesPerSecond,
		PolicyPerSecond:         DefaultPolicyPerSecond,
		MaxAttempts:             6,
	}
	if v := os.Getenv("T2T_GRAPH_WRITES_PER_SEC"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return c, fmt.Errorf("T2T_GRAPH_WRITES_PER_SEC=%q: want a positive number", v)
		}
		c.WritesPerSecond = f
	}
	if v := os.Getenv("T2T_GRAPH_WRITE_BURST"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 3000 {
			return c, fmt.Errorf("T2T_GRAPH_WRITE_BURST=%q: want a number from 0 to 3000 (Graph's write quota bucket)", v)
		}
		c.WriteBurst = f
	}
	if v := os.Getenv("T2T_GRAPH_POLICY_PER_SEC"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return c, fmt.Errorf("T2T_GRAPH_POLICY_PER_SEC=%q: want a positive number", v)
		}
		c.PolicyPerSecond = f
	}
	if v := os.Getenv("T2T_GRAPH_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("T2T_GRAPH_MAX_ATTEMPTS=%q: want a positive integer", v)
		}
		c.MaxAttempts = n
	}
	if c.ClientID == "" {
		return c, errors.New("T2T_CLIENT_ID is not set")
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
