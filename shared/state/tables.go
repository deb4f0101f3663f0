package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
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
	return upsert(ctx, s.idmap, idmapPK(m.Migration, m.Type), TableKey(m.SourceID), m)
}

// GetIDMap reads the mapping of one source object; ErrNotFound when it has none yet.
func (s *Store) GetIDMap(ctx context.Context, migration, typ, sourceID string) (IDMapping, error) {
	var m IDMapping
	err := get(ctx, s.idmap, idmapPK(migration, typ), TableKey(sourceID), &m)
	return m, err
}

// DeleteIDMap removes a mapping (after rollback deleted its object); a missing one is not an error.
func (s *Store) DeleteIDMap(ctx context.Context, migration, typ, sourceID string) error {
	_, err := s.idmap.DeleteEntity(ctx, idmapPK(migration, typ), TableKey(sourceID), nil)
	if err != nil && !isNotFound(translate(err)) {
		return fmt.Errorf("deleting id mapping %s/%s: %w", typ, sourceID, translate(err))
	}
	return nil
}

// IDMap iterates every mapping of one migration and object type.
func (s *Store) IDMap(ctx context.Context, migration, typ string) iter.Seq2[IDMapping, error] {
	return list[IDMapping](ctx, s.idmap, idmapPK(migration, typ))
}

// PutFact records a fact of a wave version (idempotent: the same fact twice is one entity), stamped
// with the time it was recorded unless f carries one.
func (s *Store) PutFact(ctx context.Context, waveID, version string, f wave.Fact) error {
	if f.Utc.IsZero() {
		f.Utc = time.Now().UTC()
	}
	return upsert(ctx, s.chunks, TableKey(waveID+"_"+version), factKey(f.Phase, f.Kind, f.Index), f)
}

// HasFact reports whether a fact of a wave version is recorded (one point read).
func (s *Store) HasFact(ctx context.Context, waveID, version, phase, kind string, index int) (bool, error) {
	var f wave.Fact
	err := get(ctx, s.chunks, TableKey(waveID+"_"+version), factKey(phase, kind, index), &f)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Facts lists every fact of a wave version (one query; a 100,000-row wave has about 5,000).
func (s *Store) Facts(ctx context.Context, waveID, version string) ([]wave.Fact, error) {
	var out []wave.Fact
	for f, err := range list[wave.Fact](ctx, s.chunks, TableKey(waveID+"_"+version)) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// PhaseFacts lists the facts of one phase of a wave version.
func (s *Store) PhaseFacts(ctx context.Context, waveID, version, phase string) ([]wave.Fact, error) {
	pk := escapeQuote(TableKey(waveID + "_" + version))
	p := escapeQuote(TableKey(phase) + ".")
	// '/' sorts right after '.', so the range holds exactly the keys that start with "<phase>.".
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey ge '%s' and RowKey lt '%s'", pk, p, strings.TrimSuffix(p, ".")+"/")
	var out []wave.Fact
	for f, err := range query[wave.Fact](ctx, s.chunks, filter) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func factKey(phase, kind string, index int) string {
	return fmt.Sprintf("%s.%s.%05d", TableKey(phase), kind, index)
}

func idmapPK(migration, typ string) string { return TableKey(migration + "_" + typ) }

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

// GetLedgers reads the entries of keys in one ledger scope with one query per 20 keys; keys never
// recorded are absent from the map.
func (s *Store) GetLedgers(ctx context.Context, sc Scope, keys []string) (map[string]LedgerEntry, error) {
	out := make(map[string]LedgerEntry, len(keys))
	err := getMany(ctx, s.ledger, sc.partition(), keys, func(e LedgerEntry) { out[e.Key] = e })
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
	err := getMany(ctx, s.idmap, idmapPK(migration, typ), sourceIDs, func(m IDMapping) { out[m.SourceID] = m })
	return out, err
}

// PutIDMaps upserts mappings in as few transactions as their partitions allow.
func (s *Store) PutIDMaps(ctx context.Context, ms []IDMapping) error {
	rows := make([]keyed, len(ms))
	for i, m := range ms {
		rows[i] = keyed{idmapPK(m.Migration, m.Type), TableKey(m.SourceID), m}
	}
	return putMany(ctx, s.idmap, rows)
}

type keyed struct {
	pk, rk string
	v      any
}

// getMany queries one partition for a set of row keys, 20 per query (filters stay short).
func getMany[T any](ctx context.Context, t *aztables.Client, pk string, keys []string, add func(T)) error {
	for start := 0; start < len(keys); start += 20 {
		part := keys[start:min(start+20, len(keys))]
		clauses := make([]string, len(part))
		for i, k := range part {
			clauses[i] = "RowKey eq '" + strings.ReplaceAll(TableKey(k), "'", "''") + "'"
		}
		filter := "PartitionKey eq '" + strings.ReplaceAll(pk, "'", "''") + "' and (" + strings.Join(clauses, " or ") + ")"
		pager := t.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("querying %s: %w", pk, translate(err))
			}
			for _, raw := range page.Entities {
				var v T
				if err := json.Unmarshal(raw, &v); err != nil {
					return fmt.Errorf("decoding entity of %s: %w", pk, err)
				}
				add(v)
			}
		}
	}
	return nil
}

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
	for _, pk := range order {
		actions := dedupeLast(byPK[pk])
		for start := 0; start < len(actions); start += maxTransaction {
			part := actions[start:min(start+maxTransaction, len(actions))]
			if _, err := t.SubmitTransaction(ctx, part, nil); err != nil {
				return fmt.Errorf("writing %d entities of %s: %w", len(part), pk, translate(err))
			}
		}
	}
	return nil
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
