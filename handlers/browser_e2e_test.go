package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"t2t/shared/localstack"
	"t2t/shared/report"
)

// browser is one headless Chromium driven through chromedp.
type browser struct {
	ctx     context.Context
	dialogs atomic.Int32 // JavaScript dialogs opened (an alert() run by injected markup)
}

// newBrowser starts Chromium with the flags a CI container needs; it stops when the test ends.
func newBrowser(t *testing.T, path string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout (it would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium %s: %v", path, err)
	}
	b := &browser{ctx: ctx}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			b.dialogs.Add(1)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// get runs one action with a timeout and returns its value, failing the test on error.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, b, what, chromedp.Steps(steps...))
}

// shoot saves a full-page screenshot and says where.
func (b *browser) shoot(t *testing.T, dir, name string) {
	t.Helper()
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	fmt.Fprintf(os.Stderr, "artefact: %s\n", path)
}

// statusPages loads WaveStatus's HTML list and the wave's page from the running stack.
func (b *browser) statusPages(t *testing.T, s *localstack.Stack, r *report.Report, f report.Failure, dir string) {
	t.Helper()
	// A browser's Accept: text/html gets the page, without ?format=html.
	b.do(t, "the status page", chromedp.Navigate(s.FunctionsURL+"/waves"), chromedp.WaitVisible(chromedp.ID("wave-usermapping")))
	title := get(t, b, "title", chromedp.Title())
	totals := get(t, b, "totals", chromedp.Text(chromedp.CSS("#wave-usermapping .totals")))
	refresh := get(t, b, "refresh", chromedp.AttributeValue(chromedp.CSS(`meta[http-equiv="refresh"]`), "content"))
	want := fmt.Sprintf("%d created, %d matched, %d skipped, %d pending, %d failed",
		r.Totals.Created, r.Totals.Matched, r.Totals.Skipped, r.Totals.Pending, r.Totals.Failed)
	if title != "t2t waves" || totals != want || refresh.Value == "" {
		t.Errorf("status page: title %q, totals %q (want %q), refresh %q", title, totals, want, refresh.Value)
	}
	phases := get(t, b, "phases", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#wave-usermapping table.phases tbody th')].map(e => e.textContent.replace(' ✓',''))`))
	if strings.Join(phases, ",") != strings.Join(r.PhaseOrder, ",") {
		t.Errorf("status page phases %v, want %v", phases, r.PhaseOrder)
	}
	b.shoot(t, dir, "status-waves.png")

	b.do(t, "the wave's page", chromedp.Click(chromedp.CSS("#wave-usermapping h2 a")), chromedp.WaitVisible(chromedp.CSS("table.failures")))
	reasons := get(t, b, "failures", chromedp.Text(chromedp.CSS("table.failures")))
	images := get(t, b, "images", chromedp.Evaluate[int](`document.images.length + document.scripts.length`))
	if !strings.Contains(reasons, f.Reason) || !strings.Contains(reasons, hostileName) || images != 0 {
		t.Errorf("wave page: reason %q or the hostile name as text missing, %d images or scripts (want 0):\n%s", f.Reason, images, reasons)
	}
	b.shoot(t, dir, "status-wave.png")
}

// reportPage loads report.html (from the wave's blob, saved to a file) and checks what it shows.
func (b *browser) reportPage(t *testing.T, file string, r *report.Report, f report.Failure, dir string) {
	t.Helper()
	b.do(t, "report.html", chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("failures")))
	status := get(t, b, "status", chromedp.Text(chromedp.ID("status")))
	failures := get(t, b, "failures", chromedp.Text(chromedp.ID("failures")))
	rows := get(t, b, "rows", chromedp.Evaluate[int](`document.querySelectorAll('#phases tbody tr').length`))
	bars := get(t, b, "bars", chromedp.Evaluate[int](`document.querySelectorAll('#phases svg rect').length`))
	images := get(t, b, "images", chromedp.Evaluate[int](`document.images.length + document.scripts.length`))
	if status != r.Status || rows != len(r.PhaseOrder) || bars < len(r.PhaseOrder) {
		t.Errorf("report.html: status %q (want %q), %d phase rows (want %d), %d bar shapes", status, r.Status, rows, len(r.PhaseOrder), bars)
	}
	if !strings.Contains(failures, f.Reason) || !strings.Contains(failures, hostileName) || images != 0 {
		t.Errorf("report.html: failure reason %q or the hostile name as text missing, %d images or scripts:\n%s", f.Reason, images, failures)
	}
	b.shoot(t, dir, "report.png")
}
