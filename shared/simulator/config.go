package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Config is the simulator's tenants file: the tenants it serves, their domains, seeded users and the
// application clients allowed to get tokens, plus the Key Vault it serves.
type Config struct {
	Tenants []TenantConfig `json:"tenants"`
	// Vault is the Key Vault served on the vault listener; nil means no vault (the listener still
	// answers, with 404 for every secret).
	Vault *VaultConfig `json:"vault,omitempty"`
	// Throttling enables Graph's documented throttling and sets the time scale; nil means off.
	Throttling *ThrottlingConfig `json:"throttling,omitempty"`
	// Faults injects 503s, 504s and dropped connections; nil means none.
	Faults *FaultConfig `json:"faults,omitempty"`
	// ManagedIdentity serves a function app's managed identity endpoint (managedidentity.go); nil
	// means none.
	ManagedIdentity *ManagedIdentityConfig `json:"managedIdentity,omitempty"`
}

// TenantConfig describes one simulated Entra tenant.
type TenantConfig struct {
	// ID is the tenant id (a GUID); tokens carry it as tid.
	ID string `json:"id"`
	// Name is the short tenant name; the initial domain <name>.onmicrosoft.com is added automatically.
	Name string `json:"name"`
	// DisplayName is the organization's display name; empty means Name.
	DisplayName string         `json:"displayName,omitempty"`
	Domains     []DomainConfig `json:"domains"`
	Seed        SeedConfig     `json:"seed"`
	Clients     []ClientConfig `json:"clients"`
	// ReplicationLag is how long an object created through Graph stays invisible to reads and
	// references (lag.go); 0 means immediately visible.
	ReplicationLag Duration `json:"replicationLag,omitempty"`
	// Organization and Policies override the tenant-wide settings' defaults (tenantsettings.go).
	Organization *OrganizationConfig `json:"organization,omitempty"`
	Policies     *PoliciesConfig     `json:"policies,omitempty"`
	// Skus are the tenant's licence subscriptions (licenses.go).
	Skus []SkuConfig `json:"skus,omitempty"`
	// MailboxMoveGroup is the mail-enabled security group scoping the tenant's organization
	// relationship for mailbox moves (exchange.go).
	MailboxMoveGroup string `json:"mailboxMoveGroup,omitempty"`
	// Environments are the tenant's Power Platform environments (powerplatform.go).
	Environments []EnvironmentConfig `json:"environments,omitempty"`
}

// DomainConfig is one domain of a tenant.
type DomainConfig struct {
	ID         string `json:"id"`
	IsVerified bool   `json:"isVerified"`
	IsDefault  bool   `json:"isDefault"`
	IsInitial  bool   `json:"isInitial"`
}

// SeedConfig drives the deterministic user generator: the same Users and Seed always give the same
// users (ids included).
type SeedConfig struct {
	Users int   `json:"users"`
	Seed  int64 `json:"seed"`
	// File loads the tenant's objects from a JSON file shaped like the admin dump
	// (GET /_sim/tenants/{tenant}/dump); a relative path is relative to the tenants file. It excludes
	// Users.
	File string `json:"file,omitempty"`

	// Directory seeds (seed_groups.go), all deterministic like Users.
	// Devices gives every third internal member a device, Entra joined, hybrid joined or registered
	// in turn, most of them Intune managed (devices.go).
	Devices int `json:"devices,omitempty"`
	// Guests are B2B guests (userType Guest, #EXT# user principal names), added to Users.
	Guests int `json:"guests,omitempty"`
	// ExternalMembers are B2B users with userType Member (to convert to internal), added to Users.
	ExternalMembers int `json:"externalMembers,omitempty"`
	// SyncedUsers and SyncedExternalMembers mark that many of the seeded internal members and external
	// members (in seed order) as synced from on-premises: onPremisesSyncEnabled true and an
	// onPremisesImmutableId, which Graph then refuses to change (users_write.go).
	SyncedUsers           int `json:"syncedUsers,omitempty"`
	SyncedExternalMembers int `json:"syncedExternalMembers,omitempty"`
	// Managers gives most seeded users a manager, a shallow org chart.
	Managers bool `json:"managers,omitempty"`
	// Groups is the number of groups. DynamicGroups and MailEnabledGroups of them are dynamic and
	// mail-enabled (half mail-enabled security, half distribution); the rest alternate security and
	// Microsoft 365. Members are drawn from the seeded users.
	Groups            int `json:"groups,omitempty"`
	DynamicGroups     int `json:"dynamicGroups,omitempty"`
	MailEnabledGroups int `json:"mailEnabledGroups,omitempty"`
	// NestingDepth is the longest chain of security groups nested in one another (0: no nesting).
	NestingDepth int `json:"nestingDepth,omitempty"`

	// Tenant configuration seeds (seed_policies.go), deterministic like Users. Apps are app
	// registrations, each with its service principal (some with app roles assigned to seeded users);
	// NamedLocations alternate IP and country locations; CustomRoles are custom directory roles;
	// ConditionalAccessPolicies reference seeded users, groups, roles, locations and apps.
	Apps                      int `json:"apps,omitempty"`
	NamedLocations            int `json:"namedLocations,omitempty"`
	CustomRoles               int `json:"customRoles,omitempty"`
	ConditionalAccessPolicies int `json:"conditionalAccessPolicies,omitempty"`
}

// ClientConfig is an application's service principal in one tenant: a multi-tenant app has the same
// ClientID in several tenants, each with the application permissions consented in that tenant.
type ClientConfig struct {
	ClientID string `json:"clientId"`
	// Secret is the client secret accepted by the token endpoint. It is kept only as a hash once loaded.
	// Empty means the app authenticates with federated credentials only.
	Secret string `json:"secret,omitempty"`
	// FederatedCredentials are the app registration's federated identity credentials (federated.go).
	// They belong to the application, so they apply in every tenant where ClientID is configured.
	FederatedCredentials []FederatedCredentialConfig `json:"federatedCredentials,omitempty"`
	// Roles are the granted application permissions (Graph app roles), e.g. "User.ReadWrite.All".
	Roles []string `json:"roles"`
	// DisplayName is the app's name, shown in tokens (app_displayname); empty means the client id.
	DisplayName string `json:"displayName,omitempty"`
}

// VaultConfig is the Key Vault served by the simulator. Access is Azure RBAC, as in a vault created with
// enableRbacAuthorization: a token of Tenant whose appid has a role assignment.
type VaultConfig struct {
	Tenant          string                `json:"tenant"`
	RoleAssignments []VaultRoleAssignment `json:"roleAssignments"`
}

// VaultRoleAssignment grants one client one of the built-in Key Vault data-plane roles:
// RoleSecretsOfficer, RoleSecretsUser or RoleVaultReader.
type VaultRoleAssignment struct {
	ClientID string `json:"clientId"`
	Role     string `json:"role"`
}

// Built-in Key Vault roles understood by the simulator
// (https://learn.microsoft.com/azure/key-vault/general/rbac-guide).
const (
	RoleSecretsOfficer = "Key Vault Secrets Officer" // every secret operation
	RoleSecretsUser    = "Key Vault Secrets User"    // read secret values
	RoleVaultReader    = "Key Vault Reader"          // list and read metadata, never values
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var tenantNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,26}$`)

// LoadConfig reads and validates a tenants file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading simulator config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("simulator config %s: %w", path, err)
	}
	cfg.resolveSeedFiles(path)
	return cfg, nil
}

// ParseConfig decodes and validates a tenants file held in memory. Unknown fields are errors, so a typo
// does not silently change a test's tenant.
func ParseConfig(data []byte) (*Config, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decoding simulator config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks ids, names, domains, clients and the vault reference.
func (c *Config) Validate() error {
	if len(c.Tenants) == 0 {
		return errors.New("simulator config has no tenants")
	}
	ids := map[string]bool{}
	domains := map[string]string{}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if err := t.validate(); err != nil {
			return fmt.Errorf("tenant %d (%s): %w", i, t.Name, err)
		}
		if ids[strings.ToLower(t.ID)] {
			return fmt.Errorf("tenant id %s is used twice", t.ID)
		}
		ids[strings.ToLower(t.ID)] = true
		for _, d := range t.allDomains() {
			if other, ok := domains[d.ID]; ok {
				return fmt.Errorf("domain %s is in tenants %s and %s", d.ID, other, t.Name)
			}
			domains[d.ID] = t.Name
		}
	}
	if c.Vault != nil {
		if !ids[strings.ToLower(c.Vault.Tenant)] {
			return fmt.Errorf("vault tenant %q is not a configured tenant id", c.Vault.Tenant)
		}
		for _, ra := range c.Vault.RoleAssignments {
			switch ra.Role {
			case RoleSecretsOfficer, RoleSecretsUser, RoleVaultReader:
			default:
				return fmt.Errorf("vault role %q for client %s is not one of %q, %q, %q",
					ra.Role, ra.ClientID, RoleSecretsOfficer, RoleSecretsUser, RoleVaultReader)
			}
		}
	}
	if c.ManagedIdentity != nil {
		if err := c.ManagedIdentity.validate(ids); err != nil {
			return err
		}
	}
	return c.validateControls()
}

func (t *TenantConfig) validate() error {
	if !guidRE.MatchString(t.ID) {
		return fmt.Errorf("id %q is not a GUID", t.ID)
	}
	if !tenantNameRE.MatchString(t.Name) {
		return fmt.Errorf("name %q must be lower-case letters, digits and dashes", t.Name)
	}
	if t.Seed.Users < 0 {
		return fmt.Errorf("seed.users is negative")
	}
	if err := t.Seed.validatePolicies(); err != nil {
		return err
	}
	if err := t.Seed.validateDirectory(); err != nil {
		return err
	}
	if err := t.validateSettings(); err != nil {
		return err
	}
	defaults := 0
	for _, d := range t.allDomains() {
		if d.ID == "" || strings.ContainsAny(d.ID, " /@") || !strings.Contains(d.ID, ".") {
			return fmt.Errorf("domain %q is not a domain name", d.ID)
		}
		if d.IsDefault {
			defaults++
			if !d.IsVerified {
				return fmt.Errorf("default domain %s must be verified", d.ID)
			}
		}
	}
	if defaults > 1 {
		return fmt.Errorf("%d domains are marked isDefault", defaults)
	}
	seen := map[string]bool{}
	for _, c := range t.Clients {
		if !guidRE.MatchString(c.ClientID) {
			return fmt.Errorf("clientId %q is not a GUID", c.ClientID)
		}
		if seen[strings.ToLower(c.ClientID)] {
			return fmt.Errorf("client %s is listed twice", c.ClientID)
		}
		seen[strings.ToLower(c.ClientID)] = true
		if c.Secret == "" && len(c.FederatedCredentials) == 0 {
			return fmt.Errorf("client %s has neither a secret nor a federated credential", c.ClientID)
		}
		for i := range c.FederatedCredentials {
			if err := c.FederatedCredentials[i].validate(); err != nil {
				return fmt.Errorf("client %s: %w", c.ClientID, err)
			}
		}
	}
	return nil
}

// InitialDomain is the tenant's <name>.onmicrosoft.com domain, which every tenant has.
func (t *TenantConfig) InitialDomain() string { return t.Name + ".onmicrosoft.com" }

// allDomains returns the configured domains, lower-cased, plus the initial domain (verified; default
// when no configured domain is default), in configuration order with the initial one last.
func (t *TenantConfig) allDomains() []DomainConfig {
	out := make([]DomainConfig, 0, len(t.Domains)+1)
	hasDefault := false
	for _, d := range t.Domains {
		d.ID = strings.ToLower(d.ID)
		if d.ID == t.InitialDomain() {
			continue
		}
		hasDefault = hasDefault || d.IsDefault
		out = append(out, d)
	}
	return append(out, DomainConfig{ID: t.InitialDomain(), IsVerified: true, IsInitial: true, IsDefault: !hasDefault})
}
