package state

import (
	"context"
	"errors"
	"fmt"
)

// keyClaim is one claimed key: which owner (an export part, say) took it first.
type keyClaim struct {
	Key   string `json:"Key"`
	Owner string `json:"Owner"`
}

// ClaimKeys gives each key to exactly one owner within scope, first come first served, and returns
// the keys that are owner's: taken now, or by the same owner before (a redelivered step gets the same
// answer). Export parts that discover the same object (a group many wave users belong to) use it so
// that the object is imported once. One point read per key, one insert per new key.
func (s *Store) ClaimKeys(ctx context.Context, scope string, keys []string, owner string) ([]string, error) {
	// Claims spread over partitions by key, as id mappings do: a scope may claim every step of a wave.
	pk := func(key string) string { return TableKey("claims_" + scope + "_" + shard(key)) }
	have := map[string]string{}
	if err := getMany(ctx, s.chunks, keys, pk, func(c keyClaim) { have[c.Key] = c.Owner }); err != nil {
		return nil, err
	}
	var mine []string
	for _, k := range keys {
		o, ok := have[k]
		if !ok {
			body, err := entityJSON(pk(k), TableKey(k), keyClaim{Key: k, Owner: owner})
			if err != nil {
				return nil, err
			}
			_, err = s.chunks.AddEntity(ctx, body, nil)
			switch err = translate(err); {
			case err == nil:
				o = owner
			case errors.Is(err, ErrConflict):
				var c keyClaim
				if err := get(ctx, s.chunks, pk(k), TableKey(k), &c); err != nil {
					return nil, err
				}
				o = c.Owner
			default:
				return nil, fmt.Errorf("claiming %s in %s: %w", k, scope, err)
			}
			have[k] = o
		}
		if o == owner {
			mine = append(mine, k)
		}
	}
	return mine, nil
}

// ClaimKey is ClaimKeys for one key, insert first: it reports whether the key is owner's and whether
// this call took it (fresh), as opposed to finding it taken by owner before. A fresh claim is the
// common case and costs one insert; only a lost race or a repeat reads the claim.
func (s *Store) ClaimKey(ctx context.Context, scope, key, owner string) (mine, fresh bool, err error) {
	pk := TableKey("claims_" + scope + "_" + shard(key))
	body, err := entityJSON(pk, TableKey(key), keyClaim{Key: key, Owner: owner})
	if err != nil {
		return false, false, err
	}
	_, err = s.chunks.AddEntity(ctx, body, nil)
	switch err = translate(err); {
	case err == nil:
		return true, true, nil
	case !errors.Is(err, ErrConflict):
		return false, false, fmt.Errorf("claiming %s in %s: %w", key, scope, err)
	}
	var c keyClaim
	if err := get(ctx, s.chunks, pk, TableKey(key), &c); err != nil {
		return false, false, err
	}
	return c.Owner == owner, false, nil
}
