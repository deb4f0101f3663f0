package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"t2t/shared/wave"
)

// Scope names one chunk of one version of a wave phase: the ledger partition its entries share.
// Entries of a chunk are read and written together, in one query and one transaction, and a
// partition never grows past a chunk (Table storage scales by partition; Azurite scans one on every
// write).
type Scope struct {
	Wave    string
	Version string // of the mapping file (wave.VersionOf): a changed file keeps a ledger of its own
	Phase   string
	Chunk   int
}

func (sc Scope) partition() string {
	return TableKey(fmt.Sprintf("%s_%s_%s_%05d", sc.Wave, sc.Version, sc.Phase, sc.Chunk))
}

// prefix is what every partition of the wave version's phase starts with.
func (sc Scope) prefix() string {
	return TableKey(fmt.Sprintf("%s_%s_%s_", sc.Wave, sc.Version, sc.Phase))
}

// LedgerEntry is the per-object truth of one wave phase: one entity per wave/phase/object.
type LedgerEntry struct {
	Wave       string    `json:"Wave"`
	Version    string    `json:"Version"`
	Chunk      int       `json:"Chunk"`
	Phase      string    `json:"Phase"`
	Key        string    `json:"Key"`  // the object's key in the wave (source UPN for users, source id otherwise)
	Name       string    `json:"Name"` // what a person calls it (display name), for reports
	Line       int       `json:"Line"`
	Status     string    `json:"Status"`
	Attempts   int       `json:"Attempts"`
	LastError  string    `json:"LastError"`
	SourceID   string    `json:"SourceId"`
	TargetID   string    `json:"TargetId"`
	TargetKey  string    `json:"TargetKey"`
	IntentUtc  time.Time `json:"IntentUtc"`
	UpdatedUtc time.Time `json:"UpdatedUtc"`
}

// IDMapping translates one source object to its target object, per migration and object type.
type IDMapping struct {
	Migration string `json:"Migration"`
	Type      string `json:"Type"`
	SourceID  string `json:"SourceId"`
	TargetID  string `json:"TargetId"`
	// Created is true when t2t created the target object (rollback may delete it), false when it
	// matched an existing one (rollback must leave it).
	Created bool   `json:"Created"`
	Wave    string `json:"Wave"`
	// TargetKey is the target object's natural key when it was mapped (the destination UPN for users).
	TargetKey string `json:"TargetKey"`
	// Fingerprint is what the object looked like when t2t created it (a display name, say): rollback
	// leaves an object alone when it no longer matches.
	Fingerprint string `json:"Fingerprint,omitempty"`
	// Kept is set when a rollback left the object in place, with the reason (it changed since).
	Kept string `json:"Kept,omitempty"`
}

// Scope is the ledger partition of the entry.
func (e LedgerEntry) Scope() Scope {
	return Scope{Wave: e.Wave, Version: e.Version, Phase: e.Phase, Chunk: e.Chunk}
}

// PutLedger upserts a ledger entry (replacing it).
func (s *Store) PutLedger(ctx context.Context, e LedgerEntry) error {
	e.UpdatedUtc = time.Now().UTC()
	return upsert(ctx, s.ledger, e.Scope().partition(), TableKey(e.Key), e)
}

// GetLedger reads one ledger entry; ErrNotFound if the object was never recorded.
func (s *Store) GetLedger(ctx context.Context, sc Scope, key string) (LedgerEntry, error) {
	var e LedgerEntry
	err := get(ctx, s.ledger, sc.partition(), TableKey(key), &e)
	return e, err
}

// Ledger iterates every ledger entry of a wave version's phase, across its chunks.
func (s *Store) Ledger(ctx context.Context, waveID, version, phase string) iter.Seq2[LedgerEntry, error] {
	p := Scope{Wave: waveID, Version: version, Phase: phase}.prefix()
	// '~' sorts after every character a partition key of this prefix continues with.
	filter := fmt.Sprintf("PartitionKey ge '%s' and PartitionKey lt '%s~'", escapeQuote(p), escapeQuote(p))
	return query[LedgerEntry](ctx, s.ledger, filter)
}

// PutIDMap upserts an id mapping.
func (s *Store) PutIDMap(ctx context.Context, m IDMapping) error {
	return upsert(ctx, s.idmap, idmapPK(m.Migration, m.Type, m.SourceID), TableKey(m.SourceID), m)
}

// GetIDMap reads the mapping of one source object; ErrNotFound when it has none yet.
func (s *Store) GetIDMap(ctx context.Context, migration, typ, sourceID string) (IDMapping, error) {
	var m IDMapping
	err := get(ctx, s.idmap, idmapPK(migration, typ, sourceID), TableKey(sourceID), &m)
	return m, err
}

// DeleteIDMap removes a mapping (after rollback deleted its object); a missing one is not an error.
func (s *Store) DeleteIDMap(ctx context.Context, migration, typ, sourceID string) error {
	_, err := s.idmap.DeleteEntity(ctx, idmapPK(migration, typ, sourceID), TableKey(sourceID), nil)
	if err != nil && !isNotFound(translate(err)) {
		return fmt.Errorf("deleting id mapping %s/%s: %w", typ, sourceID, translate(err))
	}
	return nil
}

// IDMap iterates every mapping of one migration and object type.
func (s *Store) IDMap(ctx context.Context, migration, typ string) iter.Seq2[IDMapping, error] {
	p := escapeQuote(TableKey(migration + "_" + typ + "_"))
	return query[IDMapping](ctx, s.idmap, fmt.Sprintf("PartitionKey ge '%s' and PartitionKey lt '%s~'", p, p))
}

// A wave version's facts are partitioned so that no read lists every chunk of a large wave: the few
// that say whether a phase has settled and what it counted (plans, parts, buckets) share a summary
// partition, and the one fact per settled import chunk lives in the partition of its bucket, next to
// the chunks a bucket recount reads.
func factPK(waveID, version, kind string, index int) string {
	if kind == wave.FactChunk {
		return TableKey(fmt.Sprintf("%s_%s_%05d", waveID, version, wave.BucketOf(index)))
	}
	return TableKey(waveID + "_" + version + "~summary")
}

// chunkFactsFilter selects the chunk facts of every bucket of a wave version ('~' sorts after the
// digits of a bucket number, and the summary partition sorts after the range).
func chunkFactsFilter(waveID, version string) string {
	p := escapeQuote(TableKey(waveID + "_" + version + "_"))
	return fmt.Sprintf("PartitionKey ge '%s' and PartitionKey lt '%s~'", p, p)
}

// PutFact records a fact of a wave version (idempotent: the same fact twice is one entity), stamped
// with the time it was recorded unless f carries one.
func (s *Store) PutFact(ctx context.Context, waveID, version string, f wave.Fact) error {
	if f.Utc.IsZero() {
		f.Utc = time.Now().UTC()
	}
	return upsert(ctx, s.chunks, factPK(waveID, version, f.Kind, f.Index), factKey(f.Phase, f.Kind, f.Index), f)
}

// HasFact reports whether a fact of a wave version is recorded (one point read).
func (s *Store) HasFact(ctx context.Context, waveID, version, phase, kind string, index int) (bool, error) {
	var f wave.Fact
	err := get(ctx, s.chunks, factPK(waveID, version, kind, index), factKey(phase, kind, index), &f)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Facts lists every fact of a wave version, one per chunk included (a 100,000-row wave has about
// 5,000): for tests and audits. Readers that only need the tallies use Summary.
func (s *Store) Facts(ctx context.Context, waveID, version string) ([]wave.Fact, error) {
	out, err := s.Summary(ctx, waveID, version)
	if err != nil {
		return nil, err
	}
	for f, err := range query[wave.Fact](ctx, s.chunks, chunkFactsFilter(waveID, version)) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Summary lists a wave version's plan, part and bucket facts: enough for wave.Summarize to derive
// every phase's progress, in one query whose size grows with chunks/BucketSize.
func (s *Store) Summary(ctx context.Context, waveID, version string) ([]wave.Fact, error) {
	return collect(list[wave.Fact](ctx, s.chunks, factPK(waveID, version, wave.FactPlan, 0)))
}

// PhaseSummary lists the plan, part and bucket facts of one phase of a wave version.
func (s *Store) PhaseSummary(ctx context.Context, waveID, version, phase string) ([]wave.Fact, error) {
	p := TableKey(phase) + "."
	// '/' sorts right after '.', so the range holds exactly the keys that start with "<phase>.".
	return collect(query[wave.Fact](ctx, s.chunks, rangeFilter(factPK(waveID, version, wave.FactPlan, 0), p, strings.TrimSuffix(p, ".")+"/")))
}

// PhaseChunks lists the numbers of a phase's settled chunks, in order.
func (s *Store) PhaseChunks(ctx context.Context, waveID, version, phase string) ([]int, error) {
	p := TableKey(phase) + "." + wave.FactChunk + "."
	var out []int
	filter := fmt.Sprintf("%s and RowKey ge '%s' and RowKey lt '%s'", chunkFactsFilter(waveID, version), escapeQuote(p), escapeQuote(strings.TrimSuffix(p, ".")+"/"))
	for f, err := range query[wave.Fact](ctx, s.chunks, filter) {
		if err != nil {
			return nil, err
		}
		out = append(out, f.Index)
	}
	slices.Sort(out)
	return out, nil
}

// SettleBucket recounts the settled chunks of one bucket of a phase and records the sum, unless the
// recorded bucket already counts as many: concurrent settlers race on the bucket's ETag, and the
// bucket only ever grows. A settler writes its chunk's fact before it calls this, so of two chunks
// settling together the later recount sees both.
func (s *Store) SettleBucket(ctx context.Context, waveID, version, phase string, bucket int) error {
	lo, hi := bucket*wave.BucketSize, (bucket+1)*wave.BucketSize
	sum := wave.Fact{Phase: phase, Kind: wave.FactBucket, Index: bucket}
	filter := rangeFilter(factPK(waveID, version, wave.FactChunk, lo), factKey(phase, wave.FactChunk, lo), factKey(phase, wave.FactChunk, hi))
	for f, err := range query[wave.Fact](ctx, s.chunks, filter) {
		if err != nil {
			return err
		}
		if f.Index >= lo && f.Index < hi { // keys are zero-padded to five digits; poison chunks have six
			sum.Chunks++
			sum.Counts = sum.Counts.Add(f.Counts)
			sum.Writes += f.Writes
			sum.Throttled += f.Throttled
			sum.Retried += f.Retried
			if f.Utc.After(sum.Utc) {
				sum.Utc = f.Utc // the bucket's time is its latest chunk's
			}
		}
	}
	pk, rk := factPK(waveID, version, wave.FactBucket, bucket), factKey(phase, wave.FactBucket, bucket)
	body, err := entityJSON(pk, rk, sum)
	if err != nil {
		return err
	}
	for {
		resp, err := s.chunks.GetEntity(ctx, pk, rk, nil)
		switch err = translate(err); {
		case isNotFound(err):
			_, err = s.chunks.AddEntity(ctx, body, nil)
		case err != nil:
			return fmt.Errorf("reading bucket %s/%s: %w", pk, rk, err)
		default:
			var have wave.Fact
			if err := json.Unmarshal(resp.Value, &have); err != nil {
				return fmt.Errorf("decoding bucket %s/%s: %w", pk, rk, err)
			}
			if have.Chunks >= sum.Chunks {
				return nil
			}
			_, err = s.chunks.UpdateEntity(ctx, body, &aztables.UpdateEntityOptions{IfMatch: &resp.ETag, UpdateMode: aztables.UpdateModeReplace})
		}
		switch err = translate(err); {
		case err == nil:
			return nil
		case !isConflict(err):
			return fmt.Errorf("recording bucket %s/%s: %w", pk, rk, err)
		}
		// Another settler recorded the bucket in between: read it again and keep the larger count.
	}
}

func rangeFilter(pk, from, to string) string {
	return fmt.Sprintf("PartitionKey eq '%s' and RowKey ge '%s' and RowKey lt '%s'", escapeQuote(pk), escapeQuote(from), escapeQuote(to))
}

func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func factKey(phase, kind string, index int) string {
	return fmt.Sprintf("%s.%s.%05d", TableKey(phase), kind, index)
}

// idmapPK spreads a migration's mappings of one type over 4,096 partitions by a hash of the
// source id. A lookup names one partition either way; spread, no partition holds a whole large
// migration (Azure serves a partition from one server, and Azurite scans a partition for a row).
func idmapPK(migration, typ, sourceID string) string {
	return TableKey(fmt.Sprintf("%s_%s_%s", migration, typ, shard(sourceID)))
}

// shard is a key's partition suffix among 4,096: three hex digits of its FNV-1a hash. A 100,000-user
// migration puts about 25 mappings in a partition.
func shard(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%03x", h.Sum32()%4096)
}

// TableKey escapes a value for use as a PartitionKey or RowKey, which may not hold / \ # ? or control
// characters (guest UPNs hold '#'). Escaping is reversible and keeps ordinary UPNs readable.
func TableKey(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '/' || r == '\\' || r == '#' || r == '?' || r == '%' || r < 0x20 || r == 0x7f:
			b.WriteString(url.QueryEscape(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func upsert(ctx context.Context, t *aztables.Client, pk, rk string, v any) error {
	body, err := entityJSON(pk, rk, v)
	if err != nil {
		return err
	}
	_, err = t.UpsertEntity(ctx, body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	if err != nil {
		return fmt.Errorf("upserting %s/%s: %w", pk, rk, translate(err))
	}
	return nil
}

// entityJSON flattens v's fields next to the keys, as Table storage wants.
func entityJSON(pk, rk string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding entity %s/%s: %w", pk, rk, err)
	}
	fields := map[string]any{}
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("encoding entity %s/%s: %w", pk, rk, err)
	}
	fields["PartitionKey"], fields["RowKey"] = pk, rk
	return json.Marshal(fields)
}

func get(ctx context.Context, t *aztables.Client, pk, rk string, v any) error {
	resp, err := t.GetEntity(ctx, pk, rk, nil)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", pk, rk, translate(err))
	}
	if err := json.Unmarshal(resp.Value, v); err != nil {
		return fmt.Errorf("decoding %s/%s: %w", pk, rk, err)
	}
	return nil
}

func list[T any](ctx context.Context, t *aztables.Client, pk string) iter.Seq2[T, error] {
	return query[T](ctx, t, fmt.Sprintf("PartitionKey eq '%s'", escapeQuote(pk)))
}

func escapeQuote(v string) string { return strings.ReplaceAll(v, "'", "''") }

func query[T any](ctx context.Context, t *aztables.Client, filter string) iter.Seq2[T, error] {
	pk := filter
	return func(yield func(T, error) bool) {
		pager := t.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				var zero T
				yield(zero, fmt.Errorf("listing %s: %w", pk, translate(err)))
				return
			}
			for _, raw := range page.Entities {
				var v T
				if err := json.Unmarshal(raw, &v); err != nil {
					yield(v, fmt.Errorf("decoding entity of %s: %w", pk, err))
					return
				}
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// maxTransaction is the most operations one entity group transaction may hold
// (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions).
const maxTransaction = 100

// GetLedgers reads the entries of keys in one ledger scope with point reads; keys never
// recorded are absent from the map.
func (s *Store) GetLedgers(ctx context.Context, sc Scope, keys []string) (map[string]LedgerEntry, error) {
	out := make(map[string]LedgerEntry, len(keys))
	pk := sc.partition()
	err := getMany(ctx, s.ledger, keys, func(string) string { return pk }, func(e LedgerEntry) { out[e.Key] = e })
	return out, err
}

// PutLedgers upserts entries in as few transactions as their partitions allow. Each transaction is
// atomic; together they are not, which is fine for a reconcile that re-reads on retry.
func (s *Store) PutLedgers(ctx context.Context, entries []LedgerEntry) error {
	now := time.Now().UTC()
	rows := make([]keyed, len(entries))
	for i := range entries {
		entries[i].UpdatedUtc = now
		rows[i] = keyed{entries[i].Scope().partition(), TableKey(entries[i].Key), entries[i]}
	}
	return putMany(ctx, s.ledger, rows)
}

// GetIDMaps reads the mappings of several source objects; unmapped ones are absent from the map.
func (s *Store) GetIDMaps(ctx context.Context, migration, typ string, sourceIDs []string) (map[string]IDMapping, error) {
	out := make(map[string]IDMapping, len(sourceIDs))
	pk := func(id string) string { return idmapPK(migration, typ, id) }
	err := getMany(ctx, s.idmap, sourceIDs, pk, func(m IDMapping) { out[m.SourceID] = m })
	return out, err
}

// PutIDMaps upserts mappings in as few transactions as their partitions allow.
func (s *Store) PutIDMaps(ctx context.Context, ms []IDMapping) error {
	rows := make([]keyed, len(ms))
	for i, m := range ms {
		rows[i] = keyed{idmapPK(m.Migration, m.Type, m.SourceID), TableKey(m.SourceID), m}
	}
	return putMany(ctx, s.idmap, rows)
}

type keyed struct {
	pk, rk string
	v      any
}

// getMany reads a set of row keys of one partition with point reads, a few at a time. A point read
// is the cheapest lookup Table storage has and costs the same however large the table grows; a
// query naming the keys would be one request, but Azurite answers every query by scanning the whole
// table, which made a 100,000-row wave quadratic. Keys never written are left out.
func getMany[T any](ctx context.Context, t *aztables.Client, keys []string, pk func(key string) string, add func(T)) error {
	vals := make([]*T, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, pointReadConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var v T
			switch err := get(ctx, t, pk(k), TableKey(k), &v); {
			case err == nil:
				vals[i] = &v
			case !isNotFound(err):
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, v := range vals {
		if v != nil {
			add(*v)
		}
	}
	return nil
}

// pointReadConcurrency bounds the point reads getMany has in flight.
const pointReadConcurrency = 8

// putMany upserts rows grouped by partition, up to maxTransaction per transaction.
func putMany(ctx context.Context, t *aztables.Client, rows []keyed) error {
	byPK := map[string][]aztables.TransactionAction{}
	var order []string
	for _, r := range rows {
		body, err := entityJSON(r.pk, r.rk, r.v)
		if err != nil {
			return err
		}
		if _, ok := byPK[r.pk]; !ok {
			order = append(order, r.pk)
		}
		byPK[r.pk] = append(byPK[r.pk], aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: body})
	}
	// Partitions are written side by side (a chunk's id mappings fall in as many partitions as it has
	// objects), and a partition of one entity is a plain upsert: a one-action transaction costs both
	// ends a multipart body for nothing.
	return parallel(ctx, len(order), func(i int) error {
		pk := order[i]
		actions := dedupeLast(byPK[pk])
		if len(actions) == 1 {
			_, err := t.UpsertEntity(ctx, actions[0].Entity, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
			if err != nil {
				return fmt.Errorf("writing an entity of %s: %w", pk, translate(err))
			}
			return nil
		}
		for start := 0; start < len(actions); start += maxTransaction {
			part := actions[start:min(start+maxTransaction, len(actions))]
			if _, err := t.SubmitTransaction(ctx, part, nil); err != nil {
				return fmt.Errorf("writing %d entities of %s: %w", len(part), pk, translate(err))
			}
		}
		return nil
	})
}

// parallel runs fn for 0..n-1 with at most pointReadConcurrency in flight and returns the first
// error; it stops starting new calls once one failed.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	sem := make(chan struct{}, pointReadConcurrency)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// dedupeLast keeps the last action per row key: a transaction may not touch an entity twice.
func dedupeLast(actions []aztables.TransactionAction) []aztables.TransactionAction {
	last := map[string]int{}
	for i, a := range actions {
		var k struct{ RowKey string }
		_ = json.Unmarshal(a.Entity, &k)
		last[k.RowKey] = i
	}
	out := make([]aztables.TransactionAction, 0, len(last))
	for i, a := range actions {
		var k struct{ RowKey string }
		_ = json.Unmarshal(a.Entity, &k)
		if last[k.RowKey] == i {
			out = append(out, a)
		}
	}
	return out
}

// ChunkLedger iterates the ledger entries of one chunk (one partition).
func (s *Store) ChunkLedger(ctx context.Context, sc Scope) iter.Seq2[LedgerEntry, error] {
	return list[LedgerEntry](ctx, s.ledger, sc.partition())
}
