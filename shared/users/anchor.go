package users

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/phase"
)

// msgSyncedAnchor refuses the ImmutableId column for an account directory sync already manages.
const msgSyncedAnchor = "the ImmutableId column is refused: the target account is already synced from on-premises (onPremisesSyncEnabled), so its anchor is managed there"

// SetAnchor gives an existing target cloud account the row's ImmutableId as onPremisesImmutableId
// (the hybrid link: directory sync then soft-matches the on-premises account to it). An empty
// immutableID, or the value already set, writes nothing. A synced account is refused with a
// permanent reason. u must carry id, onPremisesSyncEnabled and onPremisesImmutableId.
func (im *Importer) SetAnchor(ctx context.Context, u models.Userable, immutableID string) error {
	if immutableID == "" || deref(u.GetOnPremisesImmutableId()) == immutableID {
		return nil
	}
	if s := u.GetOnPremisesSyncEnabled(); s != nil && *s {
		return phase.Permanent{Reason: msgSyncedAnchor}
	}
	patch := models.NewUser()
	patch.SetOnPremisesImmutableId(&immutableID)
	if _, err := im.Target.Users().ByUserId(deref(u.GetId())).Patch(ctx, patch, nil); err != nil {
		return fmt.Errorf("setting onPremisesImmutableId of %s: %w", deref(u.GetUserPrincipalName()), err)
	}
	return nil
}
