package funchost

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func adminPost(t *testing.T, h *Host, name, body string) int {
	t.Helper()
	resp, err := http.Post(h.URL()+"/admin/functions/"+name, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminRunsTimerFunction checks POST /admin/functions/<Name>: 202 and one invocation with the
// real host's timer payload (the monitor's status, IsPastDue false), 404 for an unknown function, 400
// without a JSON body, and nothing for a GET.
func TestAdminRunsTimerFunction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "TimerMonitor")
	h := f.start()
	if got := adminPost(t, h, "NoSuchFunction", `{"input":""}`); got != http.StatusNotFound {
		t.Errorf("unknown function: %d, want 404", got)
	}
	if got := adminPost(t, h, "TimerMonitor", `not json`); got != http.StatusBadRequest {
		t.Errorf("malformed body: %d, want 400", got)
	}
	if resp, err := http.Get(h.URL() + "/admin/functions/TimerMonitor"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v, want 405", resp, err)
	}
	l := h.timers["timermonitor"]
	eventually(t, 5*time.Second, "the monitor's first record", func() bool { return l.readStatus(context.Background()) != nil })
	if got := adminPost(t, h, "timermonitor", `{"input":""}`); got != http.StatusAccepted {
		t.Fatalf("timer function: %d, want 202", got)
	}
	recs := f.waitRecords("TimerMonitor", 1, 5*time.Second)
	info := timerData(t, recs[0])
	if info.IsPastDue || !info.Schedule.AdjustForDST {
		t.Errorf("timer binding %+v, want IsPastDue false and AdjustForDST", info)
	}
	// A yearly schedule is monitored: the status the host wrote at start rides along.
	if info.ScheduleStatus == nil || info.ScheduleStatus.Next.Month() != time.January {
		t.Errorf("ScheduleStatus %+v, want the monitor's record (next on January 1st)", info.ScheduleStatus)
	}
}

// TestAdminTimerWithoutMonitor: an unmonitored schedule runs with ScheduleStatus null.
func TestAdminTimerWithoutMonitor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "TimerEcho")
	f.settings["TimerSchedule"] = "0 0 0 1 1 *"
	f.settings["AzureWebJobs.TimerEcho.Disabled"] = "false"
	h := f.start()
	if got := adminPost(t, h, "TimerEcho", `{}`); got != http.StatusAccepted {
		t.Fatalf("timer function: %d, want 202", got)
	}
	info := timerData(t, f.waitRecords("TimerEcho", 1, 5*time.Second)[0])
	if info.IsPastDue {
		t.Errorf("timer binding %+v", info)
	}
}
