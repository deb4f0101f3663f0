package namedlocations_test

// The named locations phase against the tenant simulator and Azurite: created once, matched by
// display name, an earlier attempt's orphan recognised after a crash, a dry run that writes nothing,
// and rollback. Assertions read the target through the simulator's dump, not t2t's state.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/localstack"
	"t2t/shared/namedlocations"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

// The example source tenant (contoso) has four named locations: two IP, two country.
var sourceNames = []string{"Headquarters", "Blocked countries", "Branch offices", "Allowed countries"}

func targetLocations(t *testing.T, s *phasetest.Setup) map[string]map[string]any {
	return s.ByName(t, "fabrikam", "namedLocations")
}

func newIPLocation(name, cidr string) models.NamedLocationable {
	l := models.NewIpNamedLocation()
	tp, rtp := "#microsoft.graph.ipNamedLocation", "#microsoft.graph.iPv4CidrRange" // the SDK does not send them
	l.SetOdataType(&tp)
	l.SetDisplayName(&name)
	r := models.NewIPv4CidrRange()
	r.SetOdataType(&rtp)
	r.SetCidrAddress(&cidr)
	l.SetIpRanges([]models.IpRangeable{r})
	return l
}

func TestImportCreatesEachLocationOnceAndRerunsCreateNothing(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	counts, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil {
		t.Fatal(err)
	}
	if counts != (wave.Counts{Created: 4}) {
		t.Errorf("first wave = %+v, want 4 created", counts)
	}
	got := targetLocations(t, s)
	for _, name := range sourceNames {
		if got[name] == nil {
			t.Errorf("%q was not created in the target", name)
		}
	}
	if l := got["Blocked countries"]; l != nil {
		cs, _ := l["countriesAndRegions"].([]any)
		if l["@odata.type"] != "#microsoft.graph.countryNamedLocation" || len(cs) != 4 || l["includeUnknownCountriesAndRegions"] != true {
			t.Errorf("Blocked countries = %v: its type, countries or unknown-countries flag were not copied", l)
		}
	}
	if l := got["Headquarters"]; l != nil {
		if rs, _ := l["ipRanges"].([]any); len(rs) != 2 || l["isTrusted"] != true {
			t.Errorf("Headquarters = %v: its ranges or trust were not copied", l)
		}
	}
	writes := s.Writes(t, simtest.FabrikamID)
	if writes != 4 {
		t.Errorf("%d writes to the target, want one per location (4)", writes)
	}
	// A redelivered step (same wave) and the next wave create nothing.
	again, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil || again != counts {
		t.Errorf("same wave again = %+v, %v; want %+v", again, err, counts)
	}
	next, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w2", false))
	if err != nil || next != (wave.Counts{Matched: 4}) {
		t.Errorf("next wave = %+v, %v; want 4 matched", next, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != writes {
		t.Errorf("reruns wrote %d times to the target", n-writes)
	}
	if len(targetLocations(t, s)) != 4 {
		t.Errorf("the target holds %d named locations, want 4", len(targetLocations(t, s)))
	}
}

func TestImportMatchesAnExistingLocationByNameAndLeavesItAlone(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	mine, err := s.Target.Identity().ConditionalAccess().NamedLocations().Post(ctx, newIPLocation("Headquarters", "192.0.2.0/24"), nil)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 3, Matched: 1}) {
		t.Fatalf("counts = %+v, %v; want 3 created, 1 matched", counts, err)
	}
	hq := targetLocations(t, s)["Headquarters"]
	if hq["id"] != *mine.GetId() || hq["isTrusted"] != false {
		t.Errorf("Headquarters = %v: the existing location must be matched and left as it was", hq)
	}
	src, err := s.Source.Identity().ConditionalAccess().NamedLocations().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range src.GetValue() {
		if *l.GetDisplayName() != "Headquarters" {
			continue
		}
		m, err := s.Store.GetIDMap(ctx, s.Migration, namedlocations.Type, *l.GetId())
		if err != nil || m.TargetID != *mine.GetId() || m.Created {
			t.Errorf("id map of Headquarters = %+v, %v; want the existing location, not created", m, err)
		}
	}
}

func TestImportAfterCrashBetweenCreateAndRecordClaimsItsOwnLocation(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	src, err := s.Source.Identity().ConditionalAccess().NamedLocations().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var hq models.NamedLocationable
	for _, l := range src.GetValue() {
		if *l.GetDisplayName() == "Headquarters" {
			hq = l
		}
	}
	// The first attempt recorded its intent, created the location, and died before recording it.
	intent := state.LedgerEntry{Wave: "w1", Version: "v1", Phase: namedlocations.Type, Key: *hq.GetId(), SourceID: *hq.GetId(),
		Status: wave.ObjCreating, Attempts: 1, IntentUtc: time.Now().UTC().Add(-2 * time.Second)}
	if err := s.Store.PutLedger(ctx, intent); err != nil {
		t.Fatal(err)
	}
	made, err := s.Target.Identity().ConditionalAccess().NamedLocations().Post(ctx, newIPLocation("Headquarters", "203.0.113.0/28"), nil)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 4}) {
		t.Fatalf("counts = %+v, %v; want 4 created (the orphan is ours)", counts, err)
	}
	if n := len(targetLocations(t, s)); n != 4 {
		t.Errorf("the target holds %d named locations, want 4", n)
	}
	m, err := s.Store.GetIDMap(ctx, s.Migration, namedlocations.Type, *hq.GetId())
	if err != nil || !m.Created || m.TargetID != *made.GetId() {
		t.Errorf("id map = %+v, %v; want the earlier attempt's location %s, created", m, err, *made.GetId())
	}
}

func TestDryRunWritesNothingToTheTarget(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	if _, err := s.Target.Identity().ConditionalAccess().NamedLocations().Post(ctx, newIPLocation("Branch offices", "192.0.2.0/24"), nil); err != nil {
		t.Fatal(err)
	}
	before := s.Writes(t, simtest.FabrikamID)
	env := s.Env(t, "dry", true)
	counts, err := phasetest.Run(ctx, namedlocations.Phase, env)
	if err != nil || counts != (wave.Counts{Created: 3, Matched: 1}) {
		t.Fatalf("plan = %+v, %v; want 3 would-create, 1 would-match", counts, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != before {
		t.Errorf("a dry run wrote %d times to the target", n-before)
	}
	if n := len(targetLocations(t, s)); n != 1 {
		t.Errorf("the target holds %d named locations after a dry run, want 1", n)
	}
	var verdicts []string
	for e, err := range s.Store.ChunkLedger(ctx, env.Scope(namedlocations.Type, 0)) {
		if err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, e.Status)
	}
	if len(verdicts) != 4 {
		t.Errorf("ledger verdicts %v, want 4", verdicts)
	}
	// Nothing leaks into the real id map: a real wave still creates the three.
	real, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil || real != (wave.Counts{Created: 3, Matched: 1}) {
		t.Errorf("real wave after the dry run = %+v, %v", real, err)
	}
}

func TestRollbackDeletesWhatItCreatedUnlessChanged(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	env := s.Env(t, "w1", false)
	maps := s.RunMapped(t, namedlocations.Phase, env, 4)
	// Someone edits one location in the target: rollback must leave it.
	changed := maps[0]
	patch := models.NewCountryNamedLocation()
	if targetLocations(t, s)[mustName(changed.TargetKey)]["@odata.type"] == "#microsoft.graph.ipNamedLocation" {
		ip := models.NewIpNamedLocation()
		tp, trusted := "#microsoft.graph.ipNamedLocation", false
		ip.SetOdataType(&tp)
		ip.SetIsTrusted(&trusted)
		patch = nil
		if _, err := s.Target.Identity().ConditionalAccess().NamedLocations().ByNamedLocationId(changed.TargetID).Patch(ctx, ip, nil); err != nil {
			t.Fatal(err)
		}
	}
	if patch != nil {
		tp, unknown := "#microsoft.graph.countryNamedLocation", false
		patch.SetOdataType(&tp)
		patch.SetIncludeUnknownCountriesAndRegions(&unknown)
		patch.SetCountriesAndRegions([]string{"NZ"})
		if _, err := s.Target.Identity().ConditionalAccess().NamedLocations().ByNamedLocationId(changed.TargetID).Patch(ctx, patch, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range maps {
		err := namedlocations.Phase.Rollback(ctx, env, m)
		if i == 0 && !errors.Is(err, phase.ErrChanged) {
			t.Errorf("rollback of the edited location = %v, want ErrChanged", err)
		}
		if i > 0 && err != nil {
			t.Errorf("rollback of %s: %v", m.TargetKey, err)
		}
	}
	left := targetLocations(t, s)
	if len(left) != 1 || left[mustName(changed.TargetKey)] == nil {
		t.Errorf("after rollback the target holds %v, want only the edited location", left)
	}
	// Rolling back again is harmless: the deleted ones are gone (404).
	if err := namedlocations.Phase.Rollback(ctx, env, maps[1]); err != nil {
		t.Errorf("second rollback: %v", err)
	}
}

func mustName(targetKey string) string {
	name, _ := phase.SplitTargetKey(targetKey)
	return name
}

func TestPacingStaysUnderTheConditionalAccessLimit(t *testing.T) {
	ctx := context.Background()
	// Graph's limit, 1 request per second per tenant, ten times faster: 10 per second.
	cfg := simulator.ExampleConfig()
	cfg.Throttling = &simulator.ThrottlingConfig{Enabled: true, TimeScale: 10, ConditionalAccessPerSecond: 1}
	s := phasetest.New(t, storageConn, cfg, &phasetest.Options{PolicyPerSecond: 8})
	start := time.Now()
	counts, err := phasetest.Run(ctx, namedlocations.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 4}) {
		t.Fatalf("counts = %+v, %v", counts, err)
	}
	// Source: one list. Target: one list and four creates, paced at 8/s (the first goes at once).
	if elapsed := time.Since(start); elapsed < 4*time.Second/8 {
		t.Errorf("5 target requests took %v: they were not paced", elapsed)
	}
	for _, c := range s.Counters(t) {
		if c.Throttled != 0 {
			t.Errorf("tenant %s: %d requests throttled (%+v); pacing should avoid the 429", c.Tenant, c.Throttled, c.ThrottledBy)
		}
	}
}
