package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"t2t/shared/graph"
	"t2t/shared/keyvault"
	"t2t/shared/phase"
	"t2t/shared/phases"
	"t2t/shared/state"
	"t2t/shared/storageconn"
)

// Settings are the app settings the functions read (local.settings.json Values locally).
type Settings struct {
	Storage string // AzureWebJobsStorage connection string (local); empty with the identity-based form
	// StorageConn is AzureWebJobsStorage resolved as the Functions host does: a connection string, or
	// __accountName/__credential/__clientId (a deployed app, whose storage allows no shared key).
	StorageConn    storageconn.Conn
	SourceTenantID string // T2T_SOURCE_TENANT_ID
	TargetTenantID string // T2T_TARGET_TENANT_ID
	MigrationID    string // T2T_MIGRATION_ID; default "<source>_<target>"
	KeyVaultURL    string // T2T_KEYVAULT_URL; empty: temporary passwords are not kept
	DomainMap      string // T2T_DOMAIN_MAP: default domain rewrite map, source.example=target.example,...
	Graph          graph.Config
}

// SettingsFromEnv reads Settings from the environment and says which required one is missing.
func SettingsFromEnv() (Settings, error) {
	gc, err := graph.ConfigFromEnv()
	if err != nil {
		return Settings{}, err
	}
	s := Settings{
		Storage:        os.Getenv("AzureWebJobsStorage"),
		SourceTenantID: os.Getenv("T2T_SOURCE_TENANT_ID"),
		TargetTenantID: os.Getenv("T2T_TARGET_TENANT_ID"),
		MigrationID:    os.Getenv("T2T_MIGRATION_ID"),
		KeyVaultURL:    os.Getenv("T2T_KEYVAULT_URL"),
		DomainMap:      os.Getenv("T2T_DOMAIN_MAP"),
		Graph:          gc,
	}
	if s.StorageConn, err = storageconn.FromEnv("AzureWebJobsStorage", os.LookupEnv); err != nil {
		return s, fmt.Errorf("app setting AzureWebJobsStorage (or its __accountName form): %w", err)
	}
	for name, v := range map[string]string{"T2T_SOURCE_TENANT_ID": s.SourceTenantID, "T2T_TARGET_TENANT_ID": s.TargetTenantID} {
		if v == "" {
			return s, fmt.Errorf("app setting %s is not set", name)
		}
	}
	if s.MigrationID == "" {
		s.MigrationID = s.SourceTenantID + "_" + s.TargetTenantID
	}
	return s, nil
}

// App holds the function app's clients, created on first use and shared by all invocations.
type App struct {
	Settings Settings
	Log      *slog.Logger
	// Phases is the phase registry every step goes through.
	Phases phase.Registry

	mu     sync.Mutex
	store  *state.Store
	source *graph.Client
	target *graph.Client
	vault  *keyvault.Vault
	// manifests caches what steps read of a wave version's manifest (see versionManifest).
	manifests manifestCache
}

// NewApp returns an App; no connection is made until a function needs it.
func NewApp(s Settings) *App {
	return &App{Settings: s, Log: newLogger(os.Stderr), Phases: phases.All}
}

func (a *App) storeFor(ctx context.Context) (*state.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.store == nil {
		conn := a.Settings.StorageConn
		if conn == (storageconn.Conn{}) {
			conn.ConnectionString = a.Settings.Storage
		}
		s, err := state.OpenConn(ctx, conn)
		if err != nil {
			return nil, err
		}
		a.store = s
	}
	return a.store, nil
}

func (a *App) sourceGraph() (*graph.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.source == nil {
		c, err := graph.New(a.Settings.Graph, a.Settings.SourceTenantID)
		if err != nil {
			return nil, fmt.Errorf("source tenant client: %w", err)
		}
		a.source = c
	}
	return a.source, nil
}

func (a *App) targetGraph() (*graph.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.target == nil {
		c, err := graph.New(a.Settings.Graph, a.Settings.TargetTenantID)
		if err != nil {
			return nil, fmt.Errorf("target tenant client: %w", err)
		}
		a.target = c
	}
	return a.target, nil
}

// secretStore returns the Key Vault, or nil when none is configured.
func (a *App) secretStore() (*keyvault.Vault, error) {
	if a.Settings.KeyVaultURL == "" {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.vault == nil {
		v, err := keyvault.New(a.Settings.Graph, a.Settings.KeyVaultURL, a.Settings.TargetTenantID)
		if err != nil {
			return nil, err
		}
		a.vault = v
	}
	return a.vault, nil
}

// isNotFound reports a missing state document or entity.
func isNotFound(err error) bool { return errors.Is(err, state.ErrNotFound) }
