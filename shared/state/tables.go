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
)

// LedgerEntry is the per-object truth of one wave phase: one entity per wave/phase/object.
type LedgerEntry struct {
	Wave       string    `json:"Wave"`
	Phase      string    `json:"Phase"`
	Key        string    `json:"Key"` // the object's natural key in the wave (source UPN for users)
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
}

// ChunkRecord marks one step chunk as done, with its tallies.
type ChunkRecord struct {
	Wave    string `json:"Wave"`
	Version string `json:"Version"`
	Phase   string `json:"Phase"`
	Chunk   int    `json:"Chunk"`
	Created int    `json:"Created"`
	Matched int    `json:"Matched"`
	Failed  int    `json:"Failed"`
}

// PutLedger upserts a ledger entry (replacing it).
func (s *Store) PutLedger(ctx context.Context, e LedgerEntry) error {
	e.UpdatedUtc = time.Now().UTC()
	return upsert(ctx, s.ledger, ledgerPK(e.Wave, e.Phase), TableKey(e.Key), e)
}

// GetLedger reads one ledger entry; ErrNotFound if the object was never recorded.
func (s *Store) GetLedger(ctx context.Context, waveID, phase, key string) (LedgerEntry, error) {
	var e LedgerEntry
	err := get(ctx, s.ledger, ledgerPK(waveID, phase), TableKey(key), &e)
	return e, err
}

// Ledger iterates every ledger entry of a wave phase.
func (s *Store) Ledger(ctx context.Context, waveID, phase string) iter.Seq2[LedgerEntry, error] {
	return list[LedgerEntry](ctx, s.ledger, ledgerPK(waveID, phase))
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

// IDMap iterates every mapping of one migration and object type.
func (s *Store) IDMap(ctx context.Context, migration, typ string) iter.Seq2[IDMapping, error] {
	return list[IDMapping](ctx, s.idmap, idmapPK(migration, typ))
}

// PutChunk records a chunk as done (idempotent).
func (s *Store) PutChunk(ctx context.Context, c ChunkRecord) error {
	return upsert(ctx, s.chunks, TableKey(c.Wave+"_"+c.Version), fmt.Sprintf("%s-%05d", c.Phase, c.Chunk), c)
}

// Chunks iterates the done chunks of one version of a wave.
func (s *Store) Chunks(ctx context.Context, waveID, version string) iter.Seq2[ChunkRecord, error] {
	return list[ChunkRecord](ctx, s.chunks, TableKey(waveID+"_"+version))
}

func ledgerPK(waveID, phase string) string { return TableKey(waveID + "_" + phase) }
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
	return func(yield func(T, error) bool) {
		filter := fmt.Sprintf("PartitionKey eq '%s'", strings.ReplaceAll(pk, "'", "''"))
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
