package handlers

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"t2t/shared/deltasync"
	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/storageconn"
	"t2t/shared/wave"
)

// timerInfo is the timer trigger's binding data as the Functions host sends it. ScheduleStatus is
// null when the schedule monitor is off or has no record yet (the first run, a short schedule).
type timerInfo struct {
	Schedule struct {
		AdjustForDST bool `json:"AdjustForDST"`
	} `json:"Schedule"`
	ScheduleStatus *struct {
		Last        time.Time `json:"Last"`
		Next        time.Time `json:"Next"`
		LastUpdated time.Time `json:"LastUpdated"`
	} `json:"ScheduleStatus"`
	IsPastDue bool `json:"IsPastDue"`
}

// DeltaSync is the timer function (T2T_DELTA_SCHEDULE): one delta run of the app's migration. A
// past-due firing (the app was down at the scheduled time) runs like any other: a delta round picks
// up every change since the last one (past the token's lifetime of about seven days, a full resync
// does). A run that fails is not retried by the host;
// its delta links stay, so the next firing redoes its round.
func (a *App) DeltaSync(ctx context.Context, inv *invocation) error {
	var info timerInfo
	if err := inv.req.JSON("timer", &info); err != nil {
		inv.logf("timer payload not understood (%v); running anyway", err)
	}
	trigger := "scheduled"
	if info.IsPastDue {
		trigger = "pastDue"
		inv.logf("the timer is past due; running the missed delta sync now")
	}
	if info.ScheduleStatus != nil && !info.ScheduleStatus.Last.IsZero() {
		inv.logf("delta sync: last scheduled run %s", info.ScheduleStatus.Last.Format(time.RFC3339))
	}
	deletions, err := deltasync.ParseDeletions(os.Getenv("T2T_DELTA_DELETIONS"))
	if err != nil {
		return err
	}
	domains, err := wave.ParseDomainMap(a.Settings.DomainMap)
	if err != nil {
		return err
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	// The same timer starts the cutovers planned for now or earlier (t2t start --cutover-at), once each.
	if err := a.startDueCutovers(ctx, inv, store); err != nil {
		inv.logf("starting planned cutovers: %v", err)
	}
	source, err := a.sourceGraph()
	if err != nil {
		return err
	}
	target, err := a.targetGraph()
	if err != nil {
		return err
	}
	s := &deltasync.Sync{Store: store, Source: source, Target: target, Migration: a.Settings.MigrationID,
		Deletions: deletions, DefaultDomains: domains, Logf: inv.logf}
	rep, err := s.Run(ctx, trigger)
	if rep != nil {
		counts := rep.Summary()
		inv.emit("progress", wave.Event{Kind: wave.EventDeltaCompleted, Migration: rep.Migration, Status: rep.Status,
			Counts: &counts, Utc: time.Now().UTC()})
		data, _ := json.Marshal(rep.Counts)
		inv.logf("delta sync %s: %s (%s), %d writes, counts %s", rep.Run, rep.Status, rep.Reason, rep.Writes, data)
	}
	return err
}

// startDueCutovers queues the cutover of every finished wave whose planned cutover time has come,
// once per planned time (ops.StartDueCutoversOn keeps a marker per wave and time).
func (a *App) startDueCutovers(ctx context.Context, inv *invocation, store *state.Store) error {
	conn := a.Settings.StorageConn
	if conn == (storageconn.Conn{}) {
		conn.ConnectionString = a.Settings.Storage
	}
	clients, err := conn.Clients(nil) // nil: the connection's own credential when it is identity-based
	if err != nil {
		return err
	}
	started, err := ops.StartDueCutoversOn(ctx, clients, store, time.Now())
	for id, run := range started {
		inv.logf("wave %s: its planned cutover started as run %s", id, run)
	}
	return err
}

// latestDelta is the migration's last delta run report for WaveStatus, or nil before the first.
func (a *App) latestDelta(ctx context.Context, store *state.Store) *deltasync.Report {
	var rep deltasync.Report
	if _, err := store.Delta().GetJSON(ctx, deltasync.LatestPath(a.Settings.MigrationID), &rep); err != nil {
		return nil
	}
	return &rep
}
