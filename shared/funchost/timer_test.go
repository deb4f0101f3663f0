package funchost

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

type timerInfo struct {
	Schedule       struct{ AdjustForDST bool }
	ScheduleStatus *timerStatus
	IsPastDue      bool
}

func timerData(t *testing.T, raw json.RawMessage) timerInfo {
	t.Helper()
	var info timerInfo
	if err := json.Unmarshal(decodeRequest(t, raw).Data["timer"], &info); err != nil {
		t.Fatalf("timer binding: %v\n%s", err, raw)
	}
	return info
}

// TestTimerFires checks a %Setting% schedule firing every second, one invocation at a time.
func TestTimerFires(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "TimerEcho")
	f.settings["TimerSchedule"] = "*/1 * * * * *"
	f.start()
	recs := f.waitRecords("TimerEcho", 2, 5*time.Second)
	info := timerData(t, recs[0])
	if !info.Schedule.AdjustForDST || info.IsPastDue || info.ScheduleStatus != nil {
		t.Errorf("timer binding %+v (a one-second schedule is not monitored)", info)
	}
}

// TestTimerPastDue checks useMonitor: a status whose Next is in the past (the host was down) makes the
// function run at start with IsPastDue, and the status is then moved to the next occurrence.
func TestTimerPastDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "TimerMonitor")
	acct, err := newAccount("test", azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := acct.containerClient(context.Background(), hostsContainer)
	if err != nil {
		t.Fatal(err)
	}
	missed := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	status := cc.NewBlockBlobClient("timers/" + f.settings["AzureFunctionsWebHost__hostid"] + "/Host.Functions.TimerMonitor/status")
	if _, err := status.UploadBuffer(context.Background(), rawJSON(timerStatus{Next: missed, LastUpdated: missed}), nil); err != nil {
		t.Fatal(err)
	}
	f.start()
	info := timerData(t, f.waitRecords("TimerMonitor", 1, 5*time.Second)[0])
	if !info.IsPastDue || info.ScheduleStatus == nil || !info.ScheduleStatus.Next.Equal(missed) {
		t.Errorf("timer binding %+v, want IsPastDue with the missed Next %s", info, missed)
	}
	eventually(t, 5*time.Second, "the status to move on", func() bool {
		l := &timerListener{h: f.host, fn: &function{name: "TimerMonitor"}, monitor: true, status: status}
		st := l.readStatus(context.Background())
		return st != nil && st.Next.After(time.Now()) && st.Next.Month() == time.January && st.Next.Day() == 1
	})
}
