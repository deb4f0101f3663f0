package users

import (
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// extensionAttribute pairs onPremisesExtensionAttributes' getter and setter of one attribute.
type extensionAttribute struct {
	get func(models.OnPremisesExtensionAttributesable) *string
	set func(models.OnPremisesExtensionAttributesable, *string)
}

type ea = models.OnPremisesExtensionAttributesable

// extensionAttributeFields are extensionAttribute1..15, in order.
var extensionAttributeFields = []extensionAttribute{
	{ea.GetExtensionAttribute1, ea.SetExtensionAttribute1}, {ea.GetExtensionAttribute2, ea.SetExtensionAttribute2},
	{ea.GetExtensionAttribute3, ea.SetExtensionAttribute3}, {ea.GetExtensionAttribute4, ea.SetExtensionAttribute4},
	{ea.GetExtensionAttribute5, ea.SetExtensionAttribute5}, {ea.GetExtensionAttribute6, ea.SetExtensionAttribute6},
	{ea.GetExtensionAttribute7, ea.SetExtensionAttribute7}, {ea.GetExtensionAttribute8, ea.SetExtensionAttribute8},
	{ea.GetExtensionAttribute9, ea.SetExtensionAttribute9}, {ea.GetExtensionAttribute10, ea.SetExtensionAttribute10},
	{ea.GetExtensionAttribute11, ea.SetExtensionAttribute11}, {ea.GetExtensionAttribute12, ea.SetExtensionAttribute12},
	{ea.GetExtensionAttribute13, ea.SetExtensionAttribute13}, {ea.GetExtensionAttribute14, ea.SetExtensionAttribute14},
	{ea.GetExtensionAttribute15, ea.SetExtensionAttribute15},
}

// readExtensionAttributes returns the set attributes by name (extensionAttributeN), or nil.
func readExtensionAttributes(a models.OnPremisesExtensionAttributesable) map[string]string {
	if a == nil {
		return nil
	}
	var out map[string]string
	for i, f := range extensionAttributeFields {
		if v := f.get(a); v != nil && *v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[fmt.Sprintf("extensionAttribute%d", i+1)] = *v
		}
	}
	return out
}

// newExtensionAttributes builds the body value of the given attributes, or nil when there are none.
func newExtensionAttributes(set map[string]string) models.OnPremisesExtensionAttributesable {
	if len(set) == 0 {
		return nil
	}
	a := models.NewOnPremisesExtensionAttributes()
	for i, f := range extensionAttributeFields {
		if v, ok := set[fmt.Sprintf("extensionAttribute%d", i+1)]; ok {
			f.set(a, &v)
		}
	}
	return a
}
