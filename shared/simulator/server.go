package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options tunes a Server. A nil *Options serves on 127.0.0.1 with free ports, keeps no state and logs
// nothing.
type Options struct {
	// GraphAddr is the listen address of the Graph + token endpoint + admin listener; "" means 127.0.0.1:0.
	GraphAddr string
	// VaultAddr is the listen address of the Key Vault listener; "" means 127.0.0.1:0.
	VaultAddr string
	// StateDir, when set, holds the CA, the token signing key and store.json: loaded at start, saved
	// every SaveInterval when changed and at Shutdown.
	StateDir string
	// SaveInterval defaults to 30 seconds.
	SaveInterval time.Duration
	// Logger receives request logs at debug level and errors; nil discards.
	Logger *slog.Logger
	// Now is the clock (token lifetimes, createdDateTime, throttling buckets, replication lag); nil
	// means time.Now.
	Now func() time.Time
	// DeltaTokenLifetime is how long delta and skip tokens of users/delta and groups/delta stay valid
	// (measured with Now); 0 means Graph's seven days.
	DeltaTokenLifetime time.Duration
}

// URLs are a started server's endpoints. The Entra authority host for azidentity is GraphURL + "/".
type URLs struct {
	GraphURL string `json:"graphURL"`
	VaultURL string `json:"vaultURL"`
	// CAFile is the PEM file last written by WriteCA, or "".
	CAFile string `json:"caFile,omitempty"`
}

// Server is a running (or ready to run) tenant simulator. Its methods are safe for concurrent use.
type Server struct {
	opts        Options
	log         *slog.Logger
	now         func() time.Time
	ca          *authority
	signer      *signer
	store       *store
	vault       *vault
	pp          *powerPlatform // powerplatform.go
	jobs        *migrationJobs // migrationjobs.go
	exchange    *exchangeState // exchange.go
	counters    *counters
	graphRoutes *router
	controls    *controls // throttling, faults, replication lag, time scale (controls.go)
	// federated holds each app's federated credentials by lower-case client id (federated.go).
	federated map[string][]FederatedCredentialConfig
	// managedIdentity is the simulated managed identity endpoint's configuration, or nil.
	managedIdentity *ManagedIdentityConfig

	mu       sync.Mutex
	graphURL string
	vaultURL string
	caFile   string
	servers  []*http.Server
	client   *http.Transport // shared by Transport and HTTPClient
	stop     chan struct{}
	stopped  bool

	saveMu       sync.Mutex
	savedVersion uint64
	savedOnce    bool
}

// New builds a server from a validated configuration: CA and signing key (loaded from StateDir when
// present), tenants with their seeded users, then saved state over them. It does not listen yet.
func New(cfg *Config, opts *Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{counters: newCounters(), stop: make(chan struct{})}
	if opts != nil {
		s.opts = *opts
	}
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.now = s.opts.Now
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.ca, err = loadOrCreateAuthority(s.opts.StateDir, s.now()); err != nil {
		return nil, fmt.Errorf("simulator CA: %w", err)
	}
	if s.signer, err = loadOrCreateSigner(s.opts.StateDir); err != nil {
		return nil, fmt.Errorf("simulator signing key: %w", err)
	}
	s.store = newStore(cfg)
	s.federated, s.managedIdentity = federatedApps(cfg), cfg.ManagedIdentity
	for i, t := range s.store.tenants {
		t.mu.Lock()
		for _, u := range seedUsers(&cfg.Tenants[i], t.defaultDomainLocked()) {
			t.users.add(u)
		}
		// Guests, managers, groups and the delta change log (seed_groups.go).
		t.initDirectoryLocked(&cfg.Tenants[i], s.opts.DeltaTokenLifetime)
		t.seedLicensesLocked()                // licenses.go
		t.seedDevicesLocked(&cfg.Tenants[i])  // devices.go
		t.seedPoliciesLocked(&cfg.Tenants[i]) // apps, service principals, named locations, CA, roles (seed_policies.go)
		t.mu.Unlock()
	}
	s.vault = newVault(cfg.Vault)
	s.pp = newPowerPlatform(cfg)
	s.jobs = newMigrationJobs()
	s.exchange = newExchange(cfg)
	if err := s.initControls(cfg); err != nil {
		return nil, err
	}
	if err := s.loadState(s.opts.StateDir); err != nil {
		return nil, fmt.Errorf("simulator state: %w", err)
	}
	s.graphRoutes = &router{}
	s.addUserRoutes(s.graphRoutes)
	s.addDomainRoutes(s.graphRoutes)
	s.addDomainManageRoutes(s.graphRoutes) // add, verify, references, delete (domains_manage.go)
	s.addLicenseRoutes(s.graphRoutes)      // subscribedSkus, assignLicense (licenses.go)
	s.addDeviceRoutes(s.graphRoutes)       // owned, registered and managed devices (devices.go)
	s.addMigrationJobRoutes(s.graphRoutes) // cross-tenant migration jobs (migrationjobs.go)
	s.addBatchRoutes(s.graphRoutes)
	// Groups, membership, delta, invitations, manager, getByIds (directory_routes.go).
	s.addDirectoryRoutes(s.graphRoutes)
	s.addConfigObjectRoutes(s.graphRoutes) // applications, service principals, CA, roles (objects.go)
	// Organization by id, authorization and cross-tenant access policies (tenantsettings.go).
	s.addTenantSettingsRoutes(s.graphRoutes)
	return s, nil
}

// Start opens both listeners and serves in the background. It returns once the URLs are known. When
// ctx ends the server shuts down as by Shutdown.
func (s *Server) Start(ctx context.Context) error {
	graphLn, err := listen(s.opts.GraphAddr)
	if err != nil {
		return fmt.Errorf("graph listener: %w", err)
	}
	vaultLn, err := listen(s.opts.VaultAddr)
	if err != nil {
		graphLn.Close()
		return fmt.Errorf("vault listener: %w", err)
	}
	s.mu.Lock()
	s.graphURL = "https://" + graphLn.Addr().String()
	s.vaultURL = "https://" + vaultLn.Addr().String()
	graphMux := http.NewServeMux()
	graphMux.HandleFunc("/v1.0/", s.serveGraph)
	graphMux.HandleFunc("/beta/", s.serveGraph)
	graphMux.HandleFunc("/_sim/", s.serveAdmin)
	graphMux.HandleFunc("/bap/", s.servePowerPlatform) // powerplatform.go
	graphMux.HandleFunc("/adminapi/", s.serveExchange) // exchange.go
	graphMux.HandleFunc("/bap-storage/", s.servePowerPlatform)
	graphMux.HandleFunc(ManagedIdentityPath, s.serveManagedIdentity)
	graphMux.HandleFunc("/", s.serveOAuth)
	s.servers = []*http.Server{s.newHTTPServer(graphMux), s.newHTTPServer(http.HandlerFunc(s.serveVault))}
	s.mu.Unlock()

	for i, ln := range []net.Listener{graphLn, vaultLn} {
		srv := s.servers[i]
		go func() {
			if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("simulator listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	if s.opts.StateDir != "" {
		every := s.opts.SaveInterval
		if every <= 0 {
			every = 30 * time.Second
		}
		go s.persistLoop(s.opts.StateDir, every, s.stop)
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Shutdown(context.Background())
		case <-s.stop:
		}
	}()
	s.log.Info("tenant simulator listening", "graph", s.graphURL, "vault", s.vaultURL)
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.ca.server}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		// TLS handshake failures (a client not trusting the CA) are logged at debug level only.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Shutdown stops accepting requests, waits for in-flight ones (bounded by ctx) and saves the state
// when a StateDir is set. Calling it again is a no-op.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.stop)
	servers, client := s.servers, s.client
	s.mu.Unlock()
	if client != nil {
		// HTTP/2 graceful shutdown waits up to a second for clients to hang up; in-process clients
		// hang up at once.
		client.CloseIdleConnections()
	}
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping simulator listener: %w", err))
		}
	}
	if s.opts.StateDir != "" {
		if err := s.saveState(s.opts.StateDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// URLs returns the endpoints; they are empty before Start.
func (s *Server) URLs() URLs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return URLs{GraphURL: s.graphURL, VaultURL: s.vaultURL, CAFile: s.caFile}
}

// CAPEM returns the simulator CA certificate in PEM form.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.ca.caPEM...) }

// CertPool returns a pool holding only the simulator CA.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.caCert)
	return pool
}

// WriteCA writes the CA certificate PEM to path (for SSL_CERT_FILE or other processes) and records it
// in URLs().CAFile.
func (s *Server) WriteCA(path string) error {
	if err := writeFileAtomic(path, s.ca.caPEM, 0o644); err != nil {
		return fmt.Errorf("writing simulator CA: %w", err)
	}
	s.mu.Lock()
	s.caFile = path
	s.mu.Unlock()
	return nil
}

// Transport returns the server's shared HTTP transport, which trusts the simulator CA and nothing
// else. Shutdown closes its idle connections.
func (s *Server) Transport() *http.Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
		t.MaxIdleConnsPerHost = 64 // the pipeline calls from many goroutines
		s.client = t
	}
	return s.client
}

// HTTPClient returns a client using Transport.
func (s *Server) HTTPClient() *http.Client { return &http.Client{Transport: s.Transport()} }
