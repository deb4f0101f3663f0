package simulator

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// seedUsers generates the tenant's configured users: the same configuration always yields the same
// users, ids and timestamps included. UPNs are on the default domain; about 5% of accounts are
// disabled, about 5% have no job information.
func seedUsers(tc *TenantConfig, domain string) []*User {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(tc.ID)))
	rng := rand.New(rand.NewPCG(uint64(tc.Seed.Seed), h.Sum64()))
	total := 0
	for _, c := range cultures {
		total += c.weight
	}
	base := time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC)
	taken := map[string]bool{}
	users := make([]*User, 0, tc.Seed.Users)
	for i := range tc.Seed.Users {
		c := pickCulture(rng.IntN(total))
		given := c.given[rng.IntN(len(c.given))]
		sur := c.surnames[rng.IntN(len(c.surnames))]
		local := uniqueLocal(strings.ToLower(given.ascii+"."+sur.ascii), taken)
		u := &User{
			ID:                derivedGUID(strings.ToLower(tc.ID), "user", fmt.Sprint(tc.Seed.Seed), fmt.Sprint(i)),
			AccountEnabled:    rng.IntN(100) >= 5,
			DisplayName:       displayName(c, given.native, sur.native),
			GivenName:         given.native,
			Surname:           sur.native,
			UserPrincipalName: local + "@" + domain,
			Mail:              local + "@" + domain,
			MailNickname:      local,
			UsageLocation:     c.country,
			UserType:          "Member",
			EmployeeID:        fmt.Sprintf("E%06d", i+1),
			EmployeeType:      employeeType(i),
			// A cost centre in extensionAttribute1, as many directories keep one.
			ExtensionAttributes: map[string]string{"extensionAttribute1": fmt.Sprintf("CC-%03d", i%50+100)},
			CreatedDateTime:     base.Add(time.Duration(rng.IntN(3*365*24)) * time.Hour),
		}
		u.ProxyAddresses = []string{"SMTP:" + u.Mail}
		// Hire date and org data derive from the index, not the seed's random source, so that the rest
		// of the seed stays as it was.
		hired := u.CreatedDateTime.Truncate(24*time.Hour).AddDate(0, 0, -7*(i%20))
		u.EmployeeHireDate = &hired
		u.EmployeeOrgData = &EmployeeOrgData{Division: divisions[i%len(divisions)], CostCenter: u.ExtensionAttributes["extensionAttribute1"]}
		if rng.IntN(100) >= 5 {
			d := departments[rng.IntN(len(departments))]
			u.Department = d.name
			u.JobTitle = d.titles[rng.IntN(len(d.titles))]
			u.OfficeLocation = offices[rng.IntN(len(offices))]
		}
		users = append(users, u)
	}
	return users
}

// divisions are seeded users' employeeOrgData divisions.
var divisions = []string{"Commercial", "Operations", "Corporate"}

// employeeType is a seeded user's worker type: every tenth a contractor (no draw from the seed's
// random source, so that the rest of the seed stays as it was).
func employeeType(i int) string {
	if i%10 == 9 {
		return "Contractor"
	}
	return "Employee"
}

func pickCulture(n int) *culture {
	for i := range cultures {
		if n < cultures[i].weight {
			return &cultures[i]
		}
		n -= cultures[i].weight
	}
	return &cultures[0]
}

func displayName(c *culture, given, surname string) string {
	if c.surnameFirst {
		return surname + c.separator + given
	}
	return given + c.separator + surname
}

// uniqueLocal returns local, or local2, local3... when already taken, and marks it taken.
func uniqueLocal(local string, taken map[string]bool) string {
	candidate := local
	for n := 2; taken[candidate]; n++ {
		candidate = fmt.Sprintf("%s%d", local, n)
	}
	taken[candidate] = true
	return candidate
}
