package wave

import (
	"fmt"
	"regexp"
	"strings"
)

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
