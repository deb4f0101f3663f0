package simulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// validateDirectory checks the directory seed counts.
func (sc *SeedConfig) validateDirectory() error {
	for name, v := range map[string]int{"guests": sc.Guests, "externalMembers": sc.ExternalMembers, "groups": sc.Groups,
		"syncedUsers": sc.SyncedUsers, "syncedExternalMembers": sc.SyncedExternalMembers,
		"dynamicGroups": sc.DynamicGroups, "mailEnabledGroups": sc.MailEnabledGroups, "nestingDepth": sc.NestingDepth} {
		if v < 0 {
			return fmt.Errorf("seed.%s is negative", name)
		}
	}
	if sc.DynamicGroups+sc.MailEnabledGroups > sc.Groups {
		return errors.New("seed.dynamicGroups + seed.mailEnabledGroups exceed seed.groups")
	}
	return nil
}

// initDirectoryLocked sets the tenant's delta token lifetime and adds the seeded directory beyond
// member users: B2B guests and external members, managers, groups. The same configuration always
// yields the same objects and ids. Seeded objects are the tenant's initial state, so they are not in
// the change log (a first delta round returns them all anyway). The caller holds the write lock.
func (t *Tenant) initDirectoryLocked(tc *TenantConfig, deltaLifetime time.Duration) {
	if deltaLifetime > 0 {
		t.changes.lifetime = deltaLifetime
	}
	sc := &tc.Seed
	rng := seedRNG(tc, "directory")
	initial := tc.InitialDomain()
	for i := range sc.Guests + sc.ExternalMembers {
		t.users.add(seedExternalUser(tc, rng, initial, i, i >= sc.Guests))
	}
	if sc.Managers {
		// A generator of its own, so that turning managers on leaves the seeded groups as they were.
		seedManagers(t, seedRNG(tc, "managers"))
	}
	seedSynced(t, sc.SyncedUsers, sc.SyncedExternalMembers)
	for _, g := range seedGroups(tc, t.users.list(), t.defaultDomainLocked()) {
		t.groups.add(g)
	}
}

// seedSynced marks the first internal members and external members as synced from on-premises, with
// an immutable id derived from the object id (base64 of its bytes, as Entra Connect's objectGUID
// anchor looks).
func seedSynced(t *Tenant, internal, external int) {
	for _, u := range t.users.list() {
		if u.UserType != "Member" {
			continue
		}
		n := &internal
		if u.isExternal() {
			n = &external
		}
		if *n == 0 {
			continue
		}
		*n--
		next := *u
		next.OnPremisesSyncEnabled = true
		next.OnPremisesImmutableID = base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(u.ID, "-", ""))[:16])
		t.users.remove(u)
		t.users.add(&next)
	}
}

// seedRNG is a generator for one part of a tenant's seed, independent of the other parts so that adding
// groups does not change the users.
func seedRNG(tc *TenantConfig, part string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(tc.ID) + "\x00" + part))
	return rand.New(rand.NewPCG(uint64(tc.Seed.Seed), h.Sum64()))
}

// partnerDomains are the home domains of seeded B2B users.
var partnerDomains = []string{"partner.example", "supplier.example", "consulting.example", "mail.example"}

// seedExternalUser makes a B2B user as an invitation does: UPN <mail with _ for @>#EXT#@<initial
// domain>, mail and otherMails the external address, creationType Invitation. Guests have userType
// Guest; external members userType Member.
func seedExternalUser(tc *TenantConfig, rng *rand.Rand, initial string, i int, member bool) *User {
	c := pickCulture(rng.IntN(100))
	given := c.given[rng.IntN(len(c.given))]
	sur := c.surnames[rng.IntN(len(c.surnames))]
	email := fmt.Sprintf("%s.%s%d@%s", given.ascii, sur.ascii, i+1, partnerDomains[rng.IntN(len(partnerDomains))])
	email = strings.ToLower(strings.ReplaceAll(email, "'", ""))
	u := &User{
		ID:                derivedGUID(strings.ToLower(tc.ID), "external", fmt.Sprint(tc.Seed.Seed), fmt.Sprint(i)),
		AccountEnabled:    true,
		DisplayName:       displayName(c, given.native, sur.native),
		GivenName:         given.native,
		Surname:           sur.native,
		UserPrincipalName: externalUPN(email, initial),
		Mail:              email,
		MailNickname:      externalNickname(email),
		OtherMails:        []string{email},
		ProxyAddresses:    []string{"SMTP:" + email},
		UserType:          "Guest",
		CreationType:      "Invitation",
		ExternalUserState: "Accepted",
		Identities:        []ObjectIdentity{{SignInType: "federated", Issuer: "ExternalAzureAD", IssuerAssignedID: email}},
		CreatedDateTime:   time.Date(2022, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(2*365*24)) * time.Hour),
	}
	if member {
		u.UserType = "Member"
	} else if rng.IntN(5) == 0 {
		u.ExternalUserState = "PendingAcceptance"
	}
	changed := u.CreatedDateTime.Add(24 * time.Hour)
	u.ExternalUserStateChangeDateTime = &changed
	return u
}

// externalUPN is the user principal name Entra gives an invited user: the address with @ replaced by
// _, then #EXT#@ and the tenant's initial domain.
func externalUPN(email, initialDomain string) string {
	return externalNickname(email) + "@" + initialDomain
}

func externalNickname(email string) string {
	return strings.ReplaceAll(email, "@", "_") + "#EXT#"
}

// seedManagers gives every member user but the first a manager: about one in ten users are managers,
// reporting to the first user; the others report to a random manager.
func seedManagers(t *Tenant, rng *rand.Rand) {
	var members []*User
	for _, u := range t.users.list() {
		if u.UserType == "Member" && !u.isExternal() {
			members = append(members, u)
		}
	}
	if len(members) < 2 {
		return
	}
	pool := members[:max(1, len(members)/10)]
	for i, u := range members[1:] {
		next := *u
		if i+1 < len(pool) {
			next.ManagerID = members[0].ID
		} else {
			next.ManagerID = pool[rng.IntN(len(pool))].ID
		}
		t.users.remove(u)
		t.users.add(&next)
	}
}

// groupTopics name seeded groups.
var groupTopics = []string{"Team", "Project", "Committee", "Leads", "Community", "Program", "Taskforce", "Guild"}

// seedGroups generates the configured groups: dynamic, mail-enabled security, distribution, then
// alternating security and Microsoft 365 groups, with members and owners drawn from users, and chains of
// nested security groups up to the nesting depth.
func seedGroups(tc *TenantConfig, users []*User, domain string) []*Group {
	sc := &tc.Seed
	if sc.Groups == 0 {
		return nil
	}
	rng := seedRNG(tc, "groups")
	var internal []*User
	for _, u := range users {
		if !u.isExternal() {
			internal = append(internal, u)
		}
	}
	base := time.Date(2021, 6, 1, 9, 0, 0, 0, time.UTC)
	groups := make([]*Group, 0, sc.Groups)
	var security []*Group
	for i := range sc.Groups {
		dept := departments[rng.IntN(len(departments))].name
		name := fmt.Sprintf("%s %s %d", dept, groupTopics[rng.IntN(len(groupTopics))], i+1)
		g := &Group{
			ID:              derivedGUID(strings.ToLower(tc.ID), "group", fmt.Sprint(sc.Seed), fmt.Sprint(i)),
			DisplayName:     name,
			Description:     "Seeded " + strings.ToLower(dept) + " group",
			MailNickname:    slug(name),
			GroupTypes:      []string{},
			SecurityEnabled: true,
			CreatedDateTime: base.Add(time.Duration(rng.IntN(2*365*24)) * time.Hour),
		}
		switch {
		case i < sc.DynamicGroups:
			g.GroupTypes = []string{"DynamicMembership"}
			if i%2 == 1 {
				g.GroupTypes = []string{"Unified", "DynamicMembership"}
				g.MailEnabled, g.SecurityEnabled = true, false
			}
			g.MembershipRule = fmt.Sprintf("(user.department -eq %q)", dept)
			g.MembershipRuleProcessingState = "On"
			for _, u := range internal {
				if u.Department == dept {
					g.Members = append(g.Members, u.ID)
				}
			}
		case i < sc.DynamicGroups+sc.MailEnabledGroups:
			g.MailEnabled = true
			g.SecurityEnabled = (i-sc.DynamicGroups)%2 == 0 // mail-enabled security, then distribution
			g.Members = pickMembers(rng, users, nil)
		case (i-sc.DynamicGroups-sc.MailEnabledGroups)%2 == 1:
			g.GroupTypes = []string{"Unified"}
			g.MailEnabled, g.SecurityEnabled, g.Visibility = true, false, "Private"
			g.Members = pickMembers(rng, users, nil)
		default:
			g.Members = pickMembers(rng, users, nil)
			security = append(security, g)
		}
		if g.MailEnabled {
			g.Mail = g.MailNickname + "@" + domain
			g.ProxyAddresses = []string{"SMTP:" + g.Mail}
		}
		if len(internal) > 0 && (g.isUnified() || rng.IntN(2) == 0) {
			g.Owners = pickMembers(rng, internal, []int{1, 2})
		}
		slices.Sort(g.Members)
		g.Members = slices.Compact(g.Members)
		groups = append(groups, g)
	}
	nestSecurityGroups(security, sc.NestingDepth)
	return groups
}

// pickMembers draws distinct users: mostly a handful, sometimes dozens, rarely hundreds. sizes, when
// given, bounds the count to [sizes[0], sizes[1]].
func pickMembers(rng *rand.Rand, users []*User, sizes []int) []string {
	if len(users) == 0 {
		return nil
	}
	var n int
	switch r := rng.IntN(100); {
	case sizes != nil:
		n = sizes[0] + rng.IntN(sizes[1]-sizes[0]+1)
	case r < 70:
		n = 2 + rng.IntN(14)
	case r < 95:
		n = 15 + rng.IntN(46)
	default:
		n = 60 + rng.IntN(241)
	}
	n = min(n, len(users))
	out := make([]string, 0, n)
	for _, idx := range rng.Perm(len(users))[:n] {
		out = append(out, users[idx].ID)
	}
	slices.Sort(out)
	return out
}

// nestSecurityGroups links chains of depth+1 security groups, each a member of the one before, using at
// most half of them; the rest stay flat.
func nestSecurityGroups(security []*Group, depth int) {
	if depth <= 0 {
		return
	}
	pool := security
	if len(security)/2 > depth {
		pool = security[:len(security)/2]
	}
	for start := 0; start+depth < len(pool); start += depth + 1 {
		for k := start; k < start+depth; k++ {
			parent, child := pool[k], pool[k+1]
			parent.Members = withRef(parent.Members, child.ID, false)
		}
	}
}

// slug turns a display name into a mail nickname: lower-case letters and digits joined by dashes.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// Seed file sections (seed_file.go): "groups" and "deletedGroups" in the admin dump's shape, Graph
// property names plus "members" and "owners" as object id lists.
func init() {
	registerSeedSection("groups", func(t *Tenant, raw json.RawMessage) error { return t.seedGroupsFromFileLocked(raw, false) })
	registerSeedSection("deletedGroups", func(t *Tenant, raw json.RawMessage) error { return t.seedGroupsFromFileLocked(raw, true) })
}

// seedGroupsFromFileLocked adds groups from a seed file: ids are GUIDs used once, every member and owner
// is an object of the tenant (users, the file's other groups, service principals), uniqueName and
// addresses unique.
func (t *Tenant) seedGroupsFromFileLocked(raw json.RawMessage, deleted bool) error {
	var list []*Group
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	for i, g := range list {
		g.ID = strings.ToLower(g.ID)
		switch {
		case !guidRE.MatchString(g.ID):
			return fmt.Errorf("[%d]: id %q is not a GUID", i, g.ID)
		case t.groups.get(g.ID) != nil || t.deletedGroups[g.ID] != nil:
			return fmt.Errorf("[%d]: id %s is used twice", i, g.ID)
		case g.DisplayName == "":
			return fmt.Errorf("[%d]: displayName is missing", i)
		}
		if g.GroupTypes == nil {
			g.GroupTypes = []string{}
		}
		if gerr := t.checkGroupLocked(g, nil); gerr != nil {
			return fmt.Errorf("[%d] %s: %s", i, g.DisplayName, gerr.message)
		}
		for _, refs := range []*[]string{&g.Members, &g.Owners} {
			for j := range *refs {
				(*refs)[j] = strings.ToLower((*refs)[j])
			}
			slices.Sort(*refs)
			*refs = slices.Compact(*refs)
		}
		if deleted {
			if g.DeletedDateTime == nil {
				return fmt.Errorf("[%d]: deletedDateTime is missing", i)
			}
			t.deletedGroups[g.ID] = g
			continue
		}
		g.DeletedDateTime = nil
		t.groups.add(g)
	}
	for _, g := range list {
		for _, id := range append(slices.Clone(g.Members), g.Owners...) {
			if _, ok := t.objectLocked(id); !ok && !deleted {
				return fmt.Errorf("group %s: member or owner %s is not an object of the tenant", g.ID, id)
			}
		}
	}
	return nil
}
