package simulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Cross-tenant migration jobs (the Migration Orchestrator,
// https://learn.microsoft.com/graph/api/resources/crosstenantmigrationjob), in the target tenant:
// create (displayName unique per tenant, at most 2,000 resources, completeAfterDateTime not in the
// past), validate, migrate, cancel, and the per-user tasks. Validation and migration are
// asynchronous: validating and migrating end on the next read. Validation results expire after
// seven days (migrate then answers 400 until the job is validated again). The simulator's controls:
// POST /_sim/migrationjobs/advance?hours=N moves this service's clock on, and
// POST /_sim/tenants/{t}/migrationjobs/fail?user={id}&reason=... makes a user's task fail.

var (
	permMigrationRead  = []string{"CrossTenantContentMigration.Read.All", "CrossTenantContentMigration.ReadWrite.All"}
	permMigrationWrite = []string{"CrossTenantContentMigration.ReadWrite.All"}
)

const (
	maxJobResources    = 2000
	validationLifetime = 7 * 24 * time.Hour
)

var jobWorkloads = []string{"Exchange", "ODSP", "Teams"}

type migrationJob struct {
	ID, DisplayName, SourceTenantID, ResourceType, Status, Message string
	CompleteAfter, Created, Updated, Validated                     time.Time
	Resources, Workloads                                           []string
	owner                                                          string // the tenant that created it
}

type migrationJobs struct {
	mu     sync.Mutex
	offset time.Duration
	jobs   map[string][]*migrationJob   // by tenant
	fail   map[string]map[string]string // tenant -> user -> reason
}

func newMigrationJobs() *migrationJobs {
	return &migrationJobs{jobs: map[string][]*migrationJob{}, fail: map[string]map[string]string{}}
}

func (s *Server) addMigrationJobRoutes(rt *router) {
	base := "/solutions/migrations/crossTenantMigrationJobs"
	rt.add(http.MethodGet, base, permMigrationRead, s.listJobs)
	rt.add(http.MethodPost, base, permMigrationWrite, s.createJob)
	rt.add(http.MethodGet, base+"/{id}", permMigrationRead, s.jobAction(""))
	rt.add(http.MethodGet, base+"/{id}/users", permMigrationRead, s.jobAction("users"))
	for _, a := range []string{"validate", "migrate", "cancel"} {
		rt.add(http.MethodPost, base+"/{id}/"+a, permMigrationWrite, s.jobAction(a))
	}
}

// advance settles asynchronous states on read.
func (m *migrationJobs) advance(j *migrationJob, now time.Time) {
	switch j.Status {
	case "validating":
		j.Status, j.Validated, j.Updated = "validatePassed", now, now
	case "migrating":
		j.Status, j.Updated = "completed", now
		for _, r := range j.Resources {
			if _, bad := m.fail[j.owner][r]; bad {
				j.Status = "completedWithErrors"
			}
		}
	}
}

func (m *migrationJobs) render(j *migrationJob, now time.Time) map[string]any {
	m.advance(j, now)
	return map[string]any{"id": j.ID, "displayName": j.DisplayName, "status": j.Status, "message": j.Message,
		"sourceTenantId": j.SourceTenantID, "resourceType": j.ResourceType, "resources": j.Resources, "workloads": j.Workloads,
		"completeAfterDateTime": j.CompleteAfter.Format(time.RFC3339), "createdDateTime": j.Created.Format(time.RFC3339),
		"lastUpdatedDateTime": j.Updated.Format(time.RFC3339)}
}

func (s *Server) listJobs(c *call) *graphError {
	m := s.jobs
	m.mu.Lock()
	defer m.mu.Unlock()
	now := s.now().Add(m.offset)
	out := []map[string]any{}
	for _, j := range m.jobs[c.tenant.ID] {
		out = append(out, m.render(j, now))
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#solutions/migrations/crossTenantMigrationJobs", "value": out})
	return nil
}

func (s *Server) createJob(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in struct {
		DisplayName           string   `json:"displayName"`
		CompleteAfterDateTime string   `json:"completeAfterDateTime"`
		SourceTenantID        string   `json:"sourceTenantId"`
		ResourceType          string   `json:"resourceType"`
		Resources             []string `json:"resources"`
		Workloads             []string `json:"workloads"`
	}
	if json.Unmarshal(raw, &in) != nil {
		return errBadRequest("The request body is not a crossTenantMigrationJob.")
	}
	m := s.jobs
	m.mu.Lock()
	defer m.mu.Unlock()
	now := s.now().Add(m.offset)
	at, err := time.Parse(time.RFC3339, in.CompleteAfterDateTime)
	switch {
	case in.DisplayName == "" || in.SourceTenantID == "" || in.ResourceType != "Users" || len(in.Resources) == 0:
		return errBadRequest("displayName, sourceTenantId, resourceType (Users) and resources are required.")
	case len(in.Resources) > maxJobResources:
		return errBadRequest("A crossTenantMigrationJob can hold at most %d resources; this one has %d.", maxJobResources, len(in.Resources))
	case err != nil || at.Before(now.Add(-time.Minute)):
		return errBadRequest("completeAfterDateTime must be a time that is not in the past.")
	}
	for _, w := range in.Workloads {
		if !slices.Contains(jobWorkloads, w) {
			return errBadRequest("Unknown workload %s (Exchange, ODSP, Teams).", w)
		}
	}
	for _, j := range m.jobs[c.tenant.ID] {
		if strings.EqualFold(j.DisplayName, in.DisplayName) {
			return newGraphError(http.StatusConflict, "Conflict", "A crossTenantMigrationJob named %s already exists in this tenant.", in.DisplayName)
		}
	}
	if len(in.Workloads) == 0 {
		in.Workloads = jobWorkloads
	}
	j := &migrationJob{ID: newGUID(), DisplayName: in.DisplayName, SourceTenantID: in.SourceTenantID, ResourceType: "Users",
		Status: "submitted", CompleteAfter: at.UTC(), Created: now, Updated: now, Resources: in.Resources, Workloads: in.Workloads, owner: c.tenant.ID}
	m.jobs[c.tenant.ID] = append(m.jobs[c.tenant.ID], j)
	body := m.render(j, now)
	c.writeJSON(http.StatusCreated, body)
	return nil
}

// jobAction serves GET of a job (action "") and of its users, and its validate, migrate and cancel.
func (s *Server) jobAction(action string) handlerFunc {
	return func(c *call) *graphError {
		m := s.jobs
		m.mu.Lock()
		defer m.mu.Unlock()
		now := s.now().Add(m.offset)
		var j *migrationJob
		for _, x := range m.jobs[c.tenant.ID] {
			if x.ID == c.param("id") {
				j = x
			}
		}
		if j == nil {
			return errNotFound(c.param("id"))
		}
		m.advance(j, now)
		switch action {
		case "":
		case "users":
			c.writeJSON(http.StatusOK, map[string]any{"value": m.tasks(j, now)})
			return nil
		case "validate":
			if !slices.Contains([]string{"submitted", "validateFailed", "validatePassed"}, j.Status) {
				return errBadRequest("A job that is %s cannot be validated.", j.Status)
			}
			j.Status, j.Updated = "validating", now
		case "migrate":
			switch {
			case j.Status != "validatePassed":
				return errBadRequest("A job must pass validation before it migrates; it is %s.", j.Status)
			case now.Sub(j.Validated) > validationLifetime:
				return newGraphError(http.StatusBadRequest, "ValidationExpired", "The validation of job %s expired after seven days; validate it again.", j.DisplayName)
			}
			j.Status, j.Updated = "migrating", now
		case "cancel":
			if slices.Contains([]string{"completed", "completedWithErrors", "failed", "cancelled"}, j.Status) {
				return errBadRequest("A job that is %s cannot be cancelled.", j.Status)
			}
			j.Status, j.Updated = "cancelled", now
			c.writeJSON(http.StatusOK, map[string]any{"status": "cancelled", "message": "The job was cancelled."})
			return nil
		}
		c.writeJSON(http.StatusOK, m.render(j, now))
		return nil
	}
}

// tasks are a job's per-user tasks, with each workload's status.
func (m *migrationJobs) tasks(j *migrationJob, now time.Time) []map[string]any {
	out := make([]map[string]any, 0, len(j.Resources))
	for _, r := range j.Resources {
		status := map[string]string{"submitted": "notStarted", "validating": "notStarted", "validatePassed": "valid",
			"migrating": "inProgress", "cancelled": "cancelled"}[j.Status]
		if status == "" {
			status = "completed"
		}
		var details []map[string]any
		reason, bad := m.fail[j.owner][r]
		for _, w := range j.Workloads {
			d := map[string]any{"service": w, "status": status, "message": "", "errors": []any{}}
			if bad && status == "completed" {
				d["status"], d["message"] = "failed", reason
				d["errors"] = []any{map[string]any{"code": "MigrationFailed", "message": reason}}
			}
			details = append(details, d)
		}
		out = append(out, map[string]any{"id": r, "taskType": "Users", "lastUpdatedDateTime": now.Format(time.RFC3339), "currentStatus": details})
	}
	return out
}

// failUser makes a user's tasks fail with reason (a control).
func (m *migrationJobs) failUser(tenant, user, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail[tenant] == nil {
		m.fail[tenant] = map[string]string{}
	}
	m.fail[tenant][strings.ToLower(user)] = reason
}

func (m *migrationJobs) advanceClock(hours int) {
	m.mu.Lock()
	m.offset += time.Duration(hours) * time.Hour
	m.mu.Unlock()
}
