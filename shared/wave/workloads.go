package wave

import (
	"fmt"
	"regexp"
	"strings"
)

// WorkloadsMetadataKey names the content workloads the wave's cross-tenant migration jobs move
// (Exchange, ODSP, Teams; comma-separated). Empty: no content jobs.
const WorkloadsMetadataKey = "t2tworkloads"

// Workloads are the content workloads a migration job can move (OneDrive and SharePoint are ODSP).
var Workloads = []string{"Exchange", "ODSP", "Teams"}

// ParseWorkloads reads "Exchange,ODSP,Teams" (any case; OneDrive and SharePoint read as ODSP).
func ParseWorkloads(v string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(v, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		canon := ""
		for _, known := range Workloads {
			if strings.EqualFold(w, known) {
				canon = known
			}
		}
		if strings.EqualFold(w, "OneDrive") || strings.EqualFold(w, "SharePoint") {
			canon = "ODSP"
		}
		if canon == "" {
			return nil, fmt.Errorf("option %s: %q is not a workload (%s)", WorkloadsMetadataKey, w, strings.Join(Workloads, ", "))
		}
		if !containsString(out, canon) {
			out = append(out, canon)
		}
	}
	return out, nil
}

// DevicesMetadataKey asks for the wave's device migration plan (devices.csv) when "plan".
const DevicesMetadataKey = "t2tdevices"

// PowerPlatformMetadataKey names the Power Platform environments (ids, comma-separated) the wave
// moves to the target tenant (the powerPlatform phase). Empty: none.
const PowerPlatformMetadataKey = "t2tppenvs"

var environmentIDRE = regexp.MustCompile(`^[0-9a-zA-Z][0-9a-zA-Z-]{0,62}$`)

// ParseEnvironments reads "id,id2" (lower-cased, each once).
func ParseEnvironments(v string) ([]string, error) {
	var out []string
	for _, id := range strings.Split(v, ",") {
		id = strings.ToLower(strings.TrimSpace(id))
		switch {
		case id == "":
		case !environmentIDRE.MatchString(id):
			return nil, fmt.Errorf("option %s: %q is not a Power Platform environment id", PowerPlatformMetadataKey, id)
		case !containsString(out, id):
			out = append(out, id)
		}
	}
	return out, nil
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
