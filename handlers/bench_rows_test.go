package handlers_test

// BenchmarkWaveRows measures how the wave's bookkeeping scales with its size: the same users wave at
// each size in T2T_BENCH_ROWS (default 10,000 and 100,000 rows), as a dry run and for real, each on a
// fresh stack whose storage requests are metered. It prints, per run, the time against its bound, the
// storage operations per row, Azurite's data-folder growth and every process's peak memory, and then
// how the cost per row at the largest size compares with the smallest.
//
//	make bench-rows                                  # 10,000 and 100,000 rows, dry run and real
//	T2T_BENCH_ROWS=100000 T2T_BENCH_MODES=dryrun make bench-rows
//	T2T_BENCH_PPROF=127.0.0.1:6061 ...                # the handler serves net/http/pprof there

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// rowsRun is what one run of the rows benchmark measured.
type rowsRun struct {
	rows       int
	dryRun     bool
	elapsed    time.Duration
	bound      time.Duration // the write-quota bound, burst included (real runs)
	storage    map[string]int64
	polls      int64 // queue receives: the hosts' polling, paid by the second, not by the row
	cpu        map[string]float64
	peaks      map[string]float64
	growthMiB  float64
	counts     wave.Counts
	throttled  int64
	targetMade int
}

func (r rowsRun) mode() string {
	if r.dryRun {
		return "dry run"
	}
	return "real"
}

// perRow is the storage requests per row, polls left out.
func (r rowsRun) perRow() float64 {
	return float64(localstack.Total(r.storage, "queue receive")) / float64(r.rows)
}

func (r rowsRun) cpuPerRow() float64 {
	total := 0.0
	for _, s := range r.cpu {
		total += s
	}
	return 1000 * total / float64(r.rows)
}

func BenchmarkWaveRows(b *testing.B) {
	var sizes []int
	for _, f := range strings.Split(envString("T2T_BENCH_ROWS", "10000,100000"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("T2T_BENCH_ROWS: %q is not a row count", f)
		}
		sizes = append(sizes, n)
	}
	modes := strings.Split(envString("T2T_BENCH_MODES", "dryrun,real"), ",")
	scale := float64(envInt("T2T_BENCH_TIMESCALE", 4))
	for i := 0; i < b.N; i++ {
		var runs []rowsRun
		for _, mode := range modes {
			for _, n := range sizes {
				r := runRowsBenchmark(b, n, strings.TrimSpace(mode) == "dryrun", scale)
				printRowsRun(r, scale)
				runs = append(runs, r)
			}
		}
		printRowsScaling(runs)
	}
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runRowsBenchmark(b *testing.B, n int, dryRun bool, scale float64) rowsRun {
	tenants := demoTenantsWith(b, func(cfg map[string]any) {
		cfg["tenants"].([]any)[0].(map[string]any)["seed"] = map[string]any{"users": n, "seed": 7, "groups": 0, "apps": 0}
		cfg["throttling"] = map[string]any{"enabled": true, "timeScale": scale}
	})
	logs, _ := os.Create(filepath.Join(b.TempDir(), "stack.log"))
	defer logs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Minute)
	defer cancel()
	pace := strconv.FormatFloat(0.95*quotaWritesPerSecond*scale, 'f', 2, 64)
	env := map[string]string{"T2T_GRAPH_WRITES_PER_SEC": pace, "T2T_GRAPH_WRITE_BURST": "2850"}
	if addr := os.Getenv("T2T_BENCH_PPROF"); addr != "" {
		env["T2T_PPROF"] = addr // the handler serves net/http/pprof there, to find where its memory goes
	}
	s, err := localstack.StartStack(ctx, localstack.StackOptions{BinDir: binDir(b), Tenants: tenants, Source: "contoso", Target: "fabrikam",
		Logs: logs, MeterStorage: true, Env: env})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	_, csv, store := benchWave(ctx, b, s)
	targetBefore := len(dumpUsers(b, s, s.TargetTenantID))
	growthBefore := dirMiB(s.Azurite.Dir)
	before := s.Meter.Counts()
	c0 := simCounters(b, s)
	b.ResetTimer()
	start := time.Now()
	opts := &ops.UploadOptions{DryRun: dryRun, Phases: []string{users.Type}}
	if err := ops.UploadWith(ctx, s.Azurite.ConnectionString(), "rows.csv", []byte(csv.String()), opts); err != nil {
		b.Fatal(err)
	}
	var last ops.Status
	for st, err := range ops.Watch(ctx, store, "rows", 2*time.Second) { // a slow watcher: its reads are metered too
		if err != nil {
			b.Fatalf("wave did not finish: %v (last: %s)", err, last.Line())
		}
		last = st
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if last.Report == nil {
		b.Fatalf("wave ended without a report: %s", last.Line())
	}
	r := rowsRun{rows: n, dryRun: dryRun, elapsed: elapsed, cpu: cpuSeconds(s), peaks: peakRSS(s),
		growthMiB: dirMiB(s.Azurite.Dir) - growthBefore, counts: last.Report.Totals, storage: map[string]int64{}}
	for k, v := range s.Meter.Counts() {
		r.storage[k] = v - before[k]
	}
	r.polls = r.storage["queue receive"]
	r.throttled = simCounters(b, s).Throttled - c0.Throttled
	r.targetMade = len(dumpUsers(b, s, s.TargetTenantID)) - targetBefore
	if !dryRun {
		// The quota's window lets the first 3,000 writes go at once; the rest come at 20/s at best.
		r.bound = time.Duration(max(0, float64(last.Report.Totals.Created)-3000) / (quotaWritesPerSecond * scale) * float64(time.Second))
	}
	return r
}

func printRowsRun(r rowsRun, scale float64) {
	fmt.Printf("\n%s of %d rows (users phase) in %s", r.mode(), r.rows, r.elapsed.Round(time.Millisecond))
	if r.dryRun {
		fmt.Printf(" (target < 5m0s); target users created %d (want 0)\n", r.targetMade)
	} else {
		ratio := "all within the quota's burst"
		if r.bound > 0 {
			ratio = fmt.Sprintf("%.3fx (target <= 1.15x)", r.elapsed.Seconds()/r.bound.Seconds())
		}
		fmt.Printf(", time scale %.0fx: write-quota bound (3,000 at once, then 20/s) %s -> %s; throttled %d\n",
			scale, r.bound.Round(time.Millisecond), ratio, r.throttled)
	}
	fmt.Printf("  outcome %s\n", ops.CountsText(r.counts))
	fmt.Printf("  storage requests %d, %.2f per row without the hosts' %d queue polls:", localstack.Total(r.storage), r.perRow(), r.polls)
	for _, k := range localstack.Keys(r.storage) {
		fmt.Printf(" %s=%d", k, r.storage[k])
	}
	fmt.Printf("\n  Azurite data folder grew %.1f MiB (%.1f KiB per row)\n", r.growthMiB, 1024*r.growthMiB/float64(r.rows))
	fmt.Printf("  peak memory MiB %v (targets: handler and funchost < 256, azurite < 512)\n", roundMap(r.peaks))
	fmt.Printf("  CPU seconds %v; %.2f ms CPU per row\n", roundMap(r.cpu), r.cpuPerRow())
}

// printRowsScaling compares, per mode, the cost per row at the largest size with the smallest.
func printRowsScaling(runs []rowsRun) {
	for _, dry := range []bool{true, false} {
		var small, large *rowsRun
		for i := range runs {
			r := &runs[i]
			if r.dryRun != dry {
				continue
			}
			if small == nil || r.rows < small.rows {
				small = r
			}
			if large == nil || r.rows > large.rows {
				large = r
			}
		}
		if small == nil || small.rows == large.rows {
			continue
		}
		fmt.Printf("\n%s, %d rows against %d: storage requests per row %.2f vs %.2f -> %.3fx (target <= 1.2x); CPU per row %.2f vs %.2f ms -> %.3fx\n",
			large.mode(), large.rows, small.rows, large.perRow(), small.perRow(), large.perRow()/small.perRow(),
			large.cpuPerRow(), small.cpuPerRow(), large.cpuPerRow()/small.cpuPerRow())
	}
}

func roundMap(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = float64(int(v*10+0.5)) / 10
	}
	return out
}

// dirMiB is the size of the files under dir.
func dirMiB(dir string) float64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return float64(total) / (1 << 20)
}
