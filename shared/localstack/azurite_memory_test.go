package localstack_test

// BenchmarkAzuriteEntityMemory measures what Azurite itself costs in memory per table entity, apart
// from t2t: it inserts ledger-shaped entities (one partition per chunk of 20, as t2t's ledger does)
// into a fresh Azurite and prints its resident and peak memory at every 20,000 entities. Azurite
// keeps every table entity in memory (LokiJS) and re-serialises its database on autosave, so its
// footprint grows with the number of entities whatever the client does; DESIGN section 5 asks for
// one ledger entity and one id-map entity per object. Two shapes are measured: the ledger entry t2t
// writes (15 properties) and a bare entity (keys and one status), the least any per-object record
// can hold.
//
//	T2T_BENCH_ENTITIES=100000,200000 go test -run '^$' -bench AzuriteEntityMemory -benchtime 1x ./shared/localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"t2t/shared/localstack"
)

func BenchmarkAzuriteEntityMemory(b *testing.B) {
	sizes := []int{100_000, 200_000}
	if v := os.Getenv("T2T_BENCH_ENTITIES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("T2T_BENCH_ENTITIES: %q is not a count", f)
			}
			sizes = append(sizes, n)
		}
	}
	for i := 0; i < b.N; i++ {
		for _, full := range []bool{true, false} {
			for _, n := range sizes {
				hwm, rss := fillAzurite(b, n, full)
				shape := "bare entity (keys + status)"
				if full {
					shape = "ledger entry (15 properties)"
				}
				fmt.Printf("azurite with %d x %s: peak %.0f MiB, resident %.0f MiB, %.2f KiB per entity (resident)\n",
					n, shape, hwm, rss, rss*1024/float64(n))
			}
		}
	}
}

// fillAzurite inserts n entities into a fresh Azurite and returns its peak and resident MiB.
func fillAzurite(b *testing.B, n int, full bool) (hwm, rss float64) {
	ctx := context.Background()
	az, err := localstack.StartAzurite(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer az.Stop()
	svc, err := aztables.NewServiceClientFromConnectionString(az.ConnectionString(), nil)
	if err != nil {
		b.Fatal(err)
	}
	t := svc.NewClient("ledger")
	if _, err := t.CreateTable(ctx, nil); err != nil {
		b.Fatal(err)
	}
	for done, chunk := 0, 0; done < n; chunk++ {
		var acts []aztables.TransactionAction
		for ; len(acts) < 20 && done < n; done++ {
			body, err := json.Marshal(ledgerShaped(chunk, done, full))
			if err != nil {
				b.Fatal(err)
			}
			acts = append(acts, aztables.TransactionAction{ActionType: aztables.TransactionTypeUpdateReplace, Entity: body})
		}
		if _, err := t.SubmitTransaction(ctx, acts, nil); err != nil {
			b.Fatal(err)
		}
		if done%20_000 == 0 {
			h, r := memMiB(az.PID())
			fmt.Printf("  %d entities: peak %.0f MiB, resident %.0f MiB\n", done, h, r)
		}
	}
	time.Sleep(6 * time.Second) // let an autosave run: it is part of what Azurite costs
	return memMiB(az.PID())
}

func ledgerShaped(chunk, i int, full bool) map[string]any {
	e := map[string]any{"PartitionKey": fmt.Sprintf("w1_0123456789ab_users_%05d", chunk),
		"RowKey": fmt.Sprintf("user%07d@contoso.example", i), "Status": "WouldCreate"}
	if full {
		for k, v := range map[string]any{"Wave": "w1", "Version": "0123456789ab", "Chunk": chunk, "Phase": "users",
			"Key": e["RowKey"], "Name": fmt.Sprintf("User %d", i), "Line": i + 2, "Attempts": 1, "LastError": "",
			"SourceId": fmt.Sprintf("6f0c5d1e-8a3b-4c2d-9e1f-%012d", i), "TargetId": "",
			"TargetKey": fmt.Sprintf("user%07d@fabrikam.example", i), "IntentUtc": "0001-01-01T00:00:00Z",
			"UpdatedUtc": "2026-12-03T17:00:00Z"} {
			e[k] = v
		}
	}
	return e
}

// memMiB reads a process's peak (VmHWM) and resident (VmRSS) memory in MiB.
func memMiB(pid int) (hwm, rss float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmHWM:":
			hwm = kb / 1024
		case "VmRSS:":
			rss = kb / 1024
		}
	}
	return hwm, rss
}
