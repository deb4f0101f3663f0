package state

import (
	"context"
	"fmt"
	"time"
)

// PendingRef is a reference a migrated object makes to another that has no target object yet: a
// user whose manager is in a later wave, say. The referencing object's ledger entry stays Pending
// until a later wave maps the referenced object and sets the reference.
//
// A reference lives in the id map table, in a partition of its own per referenced object (listed by
// one partition query), and its referenced object gets a marker beside its id mappings (read with
// point reads, as cheap as an id map lookup), so that a wave asks "does anyone wait for these
// objects?" without a query per object.
type PendingRef struct {
	Migration string `json:"Migration"`
	// Type and SourceID name the referenced object (the manager).
	Type     string `json:"Type"`
	SourceID string `json:"SourceId"`
	// Kind is the reference ("manager").
	Kind string `json:"Kind"`
	// FromSourceID and FromTargetID name the referencing object in both tenants.
	FromSourceID string `json:"FromSourceId"`
	FromTargetID string `json:"FromTargetId"`
	// Wave, Version, Phase, Chunk and Key name the referencing object's ledger entry.
	Wave       string    `json:"Wave"`
	Version    string    `json:"Version"`
	Phase      string    `json:"Phase"`
	Chunk      int       `json:"Chunk"`
	Key        string    `json:"Key"`
	CreatedUtc time.Time `json:"CreatedUtc"`
}

// Scope is the ledger partition of the referencing object's entry.
func (r PendingRef) Scope() Scope {
	return Scope{Wave: r.Wave, Version: r.Version, Phase: r.Phase, Chunk: r.Chunk}
}

// pendingMarker says that references wait for one object.
type pendingMarker struct {
	SourceID string `json:"SourceId"`
}

func pendingMarkerPK(migration, typ, sourceID string) string {
	return idmapPK(migration+"~waitedfor", typ, sourceID)
}

func pendingPK(migration, typ, sourceID string) string {
	return TableKey(migration + "~pending~" + typ + "~" + sourceID)
}

func (r PendingRef) rowKey() string { return TableKey(r.Kind + "_" + r.FromSourceID) }

// PutPendingRef records a reference waiting for its object: the reference first, then the marker
// that makes WaitedFor find it.
func (s *Store) PutPendingRef(ctx context.Context, r PendingRef) error {
	if r.CreatedUtc.IsZero() {
		r.CreatedUtc = time.Now().UTC()
	}
	if err := upsert(ctx, s.idmap, pendingPK(r.Migration, r.Type, r.SourceID), r.rowKey(), r); err != nil {
		return fmt.Errorf("recording a pending %s reference: %w", r.Kind, err)
	}
	m := pendingMarker{SourceID: r.SourceID}
	if err := upsert(ctx, s.idmap, pendingMarkerPK(r.Migration, r.Type, r.SourceID), TableKey(r.SourceID), m); err != nil {
		return fmt.Errorf("recording a pending %s reference: %w", r.Kind, err)
	}
	return nil
}

// WaitedFor returns which of sourceIDs (objects of typ) have had references waiting for them, with
// point reads. A marker outlives its references (it is never deleted: a delete could race a new
// reference), so PendingRefs may then find none.
func (s *Store) WaitedFor(ctx context.Context, migration, typ string, sourceIDs []string) ([]string, error) {
	var out []string
	pk := func(id string) string { return pendingMarkerPK(migration, typ, id) }
	err := getMany(ctx, s.idmap, sourceIDs, pk, func(m pendingMarker) { out = append(out, m.SourceID) })
	return out, err
}

// PendingRefs lists the references waiting for one object.
func (s *Store) PendingRefs(ctx context.Context, migration, typ, sourceID string) ([]PendingRef, error) {
	var out []PendingRef
	for r, err := range list[PendingRef](ctx, s.idmap, pendingPK(migration, typ, sourceID)) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DeletePendingRef removes a reference once it is set; one already gone is not an error.
func (s *Store) DeletePendingRef(ctx context.Context, r PendingRef) error {
	_, err := s.idmap.DeleteEntity(ctx, pendingPK(r.Migration, r.Type, r.SourceID), r.rowKey(), nil)
	if err != nil && !isNotFound(translate(err)) {
		return fmt.Errorf("deleting the pending %s reference of %s: %w", r.Kind, r.FromSourceID, translate(err))
	}
	return nil
}
