// Package phases is the registry: every migration phase, listed once, in dependency order (DESIGN
// section 4). Adding a phase is one package implementing phase.Phase and one line here.
package phases

import (
	"t2t/shared/applications"
	"t2t/shared/conditionalaccess"
	"t2t/shared/contentjobs"
	"t2t/shared/customroles"
	"t2t/shared/devices"
	"t2t/shared/exchangeprereqs"
	"t2t/shared/groups"
	"t2t/shared/guests"
	"t2t/shared/licenses"
	"t2t/shared/managers"
	"t2t/shared/membership"
	"t2t/shared/namedlocations"
	"t2t/shared/phase"
	"t2t/shared/powerplatform"
	"t2t/shared/serviceprincipals"
	"t2t/shared/tenantconfig"
	"t2t/shared/users"
)

// All is every phase t2t runs, in the order a wave runs them.
var All = phase.Registry{
	tenantconfig.Phase{},
	namedlocations.Phase,
	customroles.Phase,
	users.Phase{},
	managers.Phase{},
	groups.Phase{},
	guests.Phase{}, // after groups: the guests in scope are their members and owners
	membership.Phase{},
	applications.Phase{},
	serviceprincipals.Phase{},
	exchangeprereqs.Phase{}, // MailUser stamps before the content jobs, behind T2T_EXCHANGE
	contentjobs.Phase{},     // migration jobs, when the wave names workloads
	devices.Phase{},         // devices.csv, when the wave asks for it
	powerplatform.Phase{},   // behind the T2T_POWER_PLATFORM setting
	licenses.Phase{RunsAfter: []string{exchangeprereqs.Type}}, // after mailbox stamping: a licence given earlier provisions an empty mailbox
	conditionalaccess.Phase,                                   // last: it runs after every phase whose objects policies reference
}

func init() {
	if err := All.Check(); err != nil {
		panic(err)
	}
}
