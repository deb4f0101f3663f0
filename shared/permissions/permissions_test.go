package permissions_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"t2t/shared/permissions"
)

// The sets are pinned as literals: a change to what the app may do in a tenant must be deliberate.
func TestSetsArePinned(t *testing.T) {
	wantSource := []string{"Application.Read.All", "Application.ReadWrite.All", "Device.Read.All",
		"DeviceManagementManagedDevices.Read.All", "Domain.Read.All", "Domain.ReadWrite.All",
		"Group.Read.All", "GroupMember.Read.All", "Organization.Read.All", "Policy.Read.All", "RoleManagement.Read.Directory",
		"User.Invite.All", "User.Read.All", "User.ReadWrite.All"}
	wantTarget := []string{"AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All", "Domain.Read.All", "Domain.ReadWrite.All",
		"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Organization.Read.All", "Policy.Read.All",
		"Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.CrossTenantAccess",
		"RoleManagement.ReadWrite.Directory", "User.ReadWrite.All"}
	if got := permissions.Values(permissions.Source()); !slices.Equal(got, wantSource) {
		t.Errorf("Source = %q, want %q", got, wantSource)
	}
	if got := permissions.Values(permissions.Target()); !slices.Equal(got, wantTarget) {
		t.Errorf("Target = %q, want %q", got, wantTarget)
	}
	if n := len(permissions.All()); n != 20 {
		t.Errorf("All has %d permissions, want 20 (14 source + 12 target - 6 shared)", n)
	}
}

// TestSourceWritesAreTheDomainMoveOnly: waves never write the source; the only source writes are
// the operator's vanity-domain move (t2t domain free|remove) and the cutover's invitations.
func TestSourceWritesAreTheDomainMoveOnly(t *testing.T) {
	write := regexp.MustCompile(`ReadWrite`)
	domainMove := []string{"Application.ReadWrite.All", "Domain.ReadWrite.All", "User.ReadWrite.All"}
	for _, p := range permissions.Source() {
		if write.MatchString(p.Value) && !slices.Contains(domainMove, p.Value) {
			t.Errorf("source permission %s can write; only the domain move writes the source", p.Value)
		}
	}
}

func TestIDsAreGUIDsAndUnique(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]string{}
	for _, p := range permissions.All() {
		if !guid.MatchString(p.ID) {
			t.Errorf("%s: id %q is not a lower-case GUID", p.Value, p.ID)
		}
		if other, ok := seen[p.ID]; ok {
			t.Errorf("%s and %s share id %s", p.Value, other, p.ID)
		}
		seen[p.ID] = p.Value
	}
	// Two ids checked by hand against the Graph permissions reference.
	for _, p := range permissions.All() {
		switch p.Value {
		case "User.ReadWrite.All":
			if p.ID != "741f803b-c850-494e-b5df-cde7c675a1ca" {
				t.Errorf("User.ReadWrite.All id = %s", p.ID)
			}
		case "Policy.ReadWrite.CrossTenantAccess":
			if p.ID != "338163d7-f101-4c92-94ba-ca46fe52447c" {
				t.Errorf("Policy.ReadWrite.CrossTenantAccess id = %s", p.ID)
			}
		}
	}
}

// TestDemoTenantsGrantExactlyTheseSets: the demo's migration app has, in each tenant, exactly the
// permissions the code needs there, so `make demo` rehearses the least-privilege grant that Bicep makes.
func TestDemoTenantsGrantExactlyTheseSets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "demo", "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Tenants []struct {
			Name    string
			Clients []struct {
				ClientID string
				Roles    []string
			}
		}
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"contoso":  permissions.Values(permissions.Source()),
		"fabrikam": permissions.Values(permissions.Target()),
	}
	for _, tenant := range cfg.Tenants {
		w, ok := want[tenant.Name]
		if !ok {
			continue
		}
		delete(want, tenant.Name)
		if len(tenant.Clients) != 1 {
			t.Fatalf("%s has %d clients, want the migration app only", tenant.Name, len(tenant.Clients))
		}
		got := slices.Clone(tenant.Clients[0].Roles)
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("demo tenant %s grants %q, want %q", tenant.Name, got, w)
		}
	}
	for name := range want {
		t.Errorf("demo/tenants.json has no tenant %s", name)
	}
}
