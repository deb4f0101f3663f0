package simulator

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// RoleDefinition is a Microsoft Entra role definition
// (https://learn.microsoft.com/graph/api/resources/unifiedroledefinition). Built-in roles are
// present in every tenant, immutable, with their real template ids; custom roles are what
// POST /roleManagement/directory/roleDefinitions creates.
type RoleDefinition struct {
	ID string `json:"id"`
	roleProps
	IsBuiltIn bool `json:"isBuiltIn"`
}

// roleProps are the properties of a custom role a client may write.
type roleProps struct {
	DisplayName     string           `json:"displayName"`
	Description     *string          `json:"description"`
	IsEnabled       *bool            `json:"isEnabled"`
	ResourceScopes  []string         `json:"resourceScopes"`
	RolePermissions []RolePermission `json:"rolePermissions"`
	TemplateID      *string          `json:"templateId"`
	Version         *string          `json:"version"`
}

// RolePermission is one set of allowed actions (https://learn.microsoft.com/graph/api/resources/unifiedrolepermission).
type RolePermission struct {
	AllowedResourceActions  []string `json:"allowedResourceActions"`
	ExcludedResourceActions []string `json:"excludedResourceActions,omitempty"`
	Condition               *string  `json:"condition"`
}

var roleSchema = newSchema("UnifiedRoleDefinition", "microsoft.graph.unifiedRoleDefinition", []prop[RoleDefinition]{
	{name: "id", get: func(r *RoleDefinition) any { return r.ID }, v1Default: true, filter: filterEq},
	{name: "description", get: func(r *RoleDefinition) any { return strPtrOr(r.Description, "") }, v1Default: true},
	{name: "displayName", get: func(r *RoleDefinition) any { return r.DisplayName }, v1Default: true, filter: filterEq, orderBy: true},
	{name: "isBuiltIn", get: func(r *RoleDefinition) any { return r.IsBuiltIn }, v1Default: true, filter: filterEq},
	{name: "isEnabled", get: func(r *RoleDefinition) any { return boolPtrValue(r.IsEnabled) }, v1Default: true},
	{name: "resourceScopes", get: func(r *RoleDefinition) any { return nonNil(r.ResourceScopes) }, v1Default: true},
	{name: "rolePermissions", get: func(r *RoleDefinition) any { return renderRolePermissions(r.RolePermissions) }, v1Default: true},
	{name: "templateId", get: func(r *RoleDefinition) any { return strPtrOr(r.TemplateID, "") }, v1Default: true, filter: filterEq},
	{name: "version", get: func(r *RoleDefinition) any { return strPtrOr(r.Version, "") }, v1Default: true},
})

func renderRolePermissions(list []RolePermission) []map[string]any {
	out := make([]map[string]any, len(list))
	for i, p := range list {
		out[i] = map[string]any{"allowedResourceActions": nonNil(p.AllowedResourceActions), "condition": strPtrValue(p.Condition)}
		if len(p.ExcludedResourceActions) > 0 {
			out[i]["excludedResourceActions"] = p.ExcludedResourceActions
		}
	}
	return out
}

// Role management permissions (https://learn.microsoft.com/graph/api/rbacapplication-list-roledefinitions,
// rbacapplication-post-roledefinitions, unifiedroledefinition-update, unifiedroledefinition-delete).
var (
	permRolesRead  = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"}
	permRolesWrite = []string{"RoleManagement.ReadWrite.Directory"}
)

func (s *Server) addRoleRoutes(rt *router) {
	const base = "/roleManagement/directory/roleDefinitions"
	rt.add(http.MethodGet, base, permRolesRead, roleResource.list)
	rt.add(http.MethodPost, base, permRolesWrite, createRoleDefinition)
	rt.add(http.MethodGet, base+"/{id}", permRolesRead, getRoleDefinition)
	rt.add(http.MethodPatch, base+"/{id}", permRolesWrite, updateRoleDefinition)
	rt.add(http.MethodDelete, base+"/{id}", permRolesWrite, deleteRoleDefinition)
}

func roleID(r *RoleDefinition) string { return r.ID }

const roleSet = "roleManagement/directory/roleDefinitions"

// roleResource drives the generic handlers (collection_handlers.go) for role definitions. Its byID
// finds a role definition by id (a built-in role's id is its template id); roles still replicating
// are not found.
var roleResource = &resource[RoleDefinition]{
	schema: roleSchema, set: roleSet, idOf: roleID, notFound: errNotFound,
	coll: func(t *Tenant) *objectSet[RoleDefinition] { return t.objs.roles },
}

func getRoleDefinition(c *call) *graphError { return roleResource.get(c, roleResource.byID) }

func parseRoleBody(c *call) (map[string]any, *graphError) {
	return parseEntityBody(c, "#microsoft.graph.unifiedRoleDefinition", "id", "isBuiltIn", "inheritsPermissionsFrom")
}

// validate checks a custom role's properties: displayName, isEnabled and rolePermissions required
// (https://learn.microsoft.com/graph/api/rbacapplication-post-roledefinitions), resource scope "/",
// actions from the custom-role action set, templateId a GUID.
func (p *roleProps) validate() *graphError {
	if strings.TrimSpace(p.DisplayName) == "" {
		return errRequired("displayName")
	}
	if utf8.RuneCountInString(p.DisplayName) > 256 {
		return errInvalidValue("displayName", "UnifiedRoleDefinition")
	}
	if p.IsEnabled == nil {
		return errRequired("isEnabled")
	}
	if len(p.RolePermissions) == 0 {
		return errRequired("rolePermissions")
	}
	for _, rp := range p.RolePermissions {
		if len(rp.AllowedResourceActions) == 0 {
			return errRequired("allowedResourceActions")
		}
		for _, a := range append(append([]string(nil), rp.AllowedResourceActions...), rp.ExcludedResourceActions...) {
			if gerr := checkCustomRoleAction(a); gerr != nil {
				return gerr
			}
		}
		if rp.Condition != nil && *rp.Condition != "$ResourceIsSelf" && *rp.Condition != "$SubjectIsOwner" {
			return errInvalidValue("condition", "UnifiedRolePermission")
		}
	}
	for _, s := range p.ResourceScopes {
		if s != "/" {
			// Docs: "Currently only / is supported."
			return errInvalidValue("resourceScopes", "UnifiedRoleDefinition")
		}
	}
	if p.TemplateID != nil && !isGUID(*p.TemplateID) {
		return errInvalidValue("templateId", "UnifiedRoleDefinition")
	}
	return nil
}

// checkRoleConflictsLocked: display names and template ids are unique among all role definitions,
// built-in ones included (docs are silent on the wording; a uniqueness violation uses the directory's
// ObjectConflict answer). self is the role being replaced.
func (t *Tenant) checkRoleConflictsLocked(r *RoleDefinition, self *RoleDefinition) *graphError {
	for _, other := range t.objs.roles.list() {
		if self != nil && other.ID == self.ID {
			continue
		}
		if strings.EqualFold(other.DisplayName, r.DisplayName) {
			return errConflict("displayName")
		}
		if r.TemplateID != nil && strings.EqualFold(strPtrOr(other.TemplateID, other.ID), *r.TemplateID) {
			return errConflict("templateId")
		}
	}
	return nil
}

func normalizeRole(p *roleProps, id string) {
	if len(p.ResourceScopes) == 0 {
		p.ResourceScopes = []string{"/"}
	}
	if p.TemplateID == nil {
		tid := id // docs example: a custom role's templateId is its id unless one is given
		p.TemplateID = &tid
	}
	*p.TemplateID = strings.ToLower(*p.TemplateID)
	for i := range p.RolePermissions {
		p.RolePermissions[i].AllowedResourceActions = nonNil(p.RolePermissions[i].AllowedResourceActions)
	}
}

// createRoleDefinition implements POST /roleManagement/directory/roleDefinitions: 201.
func createRoleDefinition(c *call) *graphError {
	body, gerr := parseRoleBody(c)
	if gerr != nil {
		return gerr
	}
	var p roleProps
	if gerr := strictDecode(body, &p, "UnifiedRoleDefinition"); gerr != nil {
		return gerr
	}
	if gerr := p.validate(); gerr != nil {
		return gerr
	}
	r := &RoleDefinition{ID: newGUID(), roleProps: p}
	normalizeRole(&r.roleProps, r.ID)
	t := c.tenant
	t.mu.Lock()
	if gerr = t.checkRoleConflictsLocked(r, nil); gerr == nil {
		t.objs.roles.put(r)
		t.markCreated(r.ID)
		t.touchLocked()
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeCreated(c, roleSchema.project(r, nil, c.version), roleSet, "/"+roleSet+"/"+r.ID)
	return nil
}

// errBuiltInRole answers writes to built-in roles, whose properties are read-only when isBuiltIn is
// true (https://learn.microsoft.com/graph/api/resources/unifiedroledefinition#properties).
func errBuiltInRole() *graphError {
	return errBadRequest("Built-in role definitions cannot be modified or deleted.")
}

func updateRoleDefinition(c *call) *graphError {
	body, gerr := parseRoleBody(c)
	if gerr != nil {
		return gerr
	}
	return roleResource.patch(c, roleResource.byID, func(t *Tenant, cur *RoleDefinition) *graphError {
		if cur.IsBuiltIn {
			return errBuiltInRole()
		}
		var p roleProps
		if gerr := strictDecode(mergePatch(toJSONMap(cur.roleProps), body), &p, "UnifiedRoleDefinition"); gerr != nil {
			return gerr
		}
		if gerr := p.validate(); gerr != nil {
			return gerr
		}
		next := &RoleDefinition{ID: cur.ID, roleProps: p}
		normalizeRole(&next.roleProps, next.ID)
		if gerr := t.checkRoleConflictsLocked(next, cur); gerr != nil {
			return gerr
		}
		t.objs.roles.put(next)
		return nil
	})
}

func deleteRoleDefinition(c *call) *graphError {
	return roleResource.remove(c, roleResource.byID, func(t *Tenant, cur *RoleDefinition) *graphError {
		if cur.IsBuiltIn {
			return errBuiltInRole()
		}
		t.objs.roles.remove(cur.ID)
		return nil
	})
}

// checkCustomRoleAction accepts the actions available to custom roles. A category other than
// microsoft.directory is refused with Entra's message ("Resource category 'x' is not supported."), an
// unknown directory action with "Action 'x' is not supported for Custom Role creation" (both seen in
// real answers); the list is a subset of the documented custom-role permissions
// (https://learn.microsoft.com/entra/identity/role-based-access-control/custom-available-permissions
// and the user, group, device and enterprise-app pages beside it).
func checkCustomRoleAction(action string) *graphError {
	category, rest, _ := strings.Cut(action, "/")
	if !strings.EqualFold(category, "microsoft.directory") {
		return errBadRequest("Resource category '%s' is not supported.", category)
	}
	entity, task, _ := strings.Cut(rest, "/")
	if tasks, ok := customRoleActions[entity]; ok && slices.Contains(tasks, task) {
		return nil
	}
	if entity == "servicePrincipals" && (strings.HasPrefix(task, "managePermissionGrantsForSelf.") || strings.HasPrefix(task, "managePermissionGrantsForAll.")) {
		return nil
	}
	return errBadRequest("Action '%s' is not supported for Custom Role creation", action)
}

var appTasks = []string{"delete", "allProperties/read", "allProperties/update", "audience/update", "authentication/update",
	"basic/update", "credentials/update", "owners/read", "owners/update", "permissions/update", "standard/read"}

var customRoleActions = map[string][]string{
	"applications":                append([]string{"create", "createAsOwner", "policies/update", "tag/update", "verification/update", "extensionProperties/update"}, appTasks...),
	"applications.myOrganization": appTasks,
	"servicePrincipals": append([]string{"create", "disable", "enable", "appRoleAssignedTo/read", "appRoleAssignedTo/update",
		"appRoleAssignments/read", "policies/update", "tag/update", "synchronizationCredentials/manage",
		"synchronizationJobs/manage", "synchronizationSchema/manage"}, appTasks...),
	"users": {"create", "delete", "disable", "enable", "restore", "invalidateAllRefreshTokens", "basic/update",
		"manager/update", "photo/update", "sponsors/update", "standard/read", "userPrincipalName/update", "password/update",
		"authenticationMethods/create", "authenticationMethods/delete", "authenticationMethods/standard/read",
		"authenticationMethods/basic/update", "usageLocation/update", "identities/read", "lifeCycleInfo/read"},
	"groups": {"create", "createAsOwner", "delete", "restore", "allProperties/read", "allProperties/update", "basic/update",
		"classification/update", "dynamicMembershipRule/update", "groupType/update", "hiddenMembers/read", "members/read",
		"members/update", "owners/read", "owners/update", "settings/update", "standard/read", "visibility/update"},
	"devices": {"delete", "disable", "enable", "basic/update", "extensionAttributeSet1/update", "extensionAttributeSet2/update",
		"extensionAttributeSet3/update", "registeredOwners/update", "registeredUsers/update", "standard/read"},
}
