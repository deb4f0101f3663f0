// Package contentjobs moves the wave's users' content (mailboxes, OneDrive and SharePoint, Teams)
// with Graph's cross-tenant migration jobs in the target tenant
// (https://learn.microsoft.com/graph/api/resources/crosstenantmigrationjob): the wave's migrated
// users are split into jobs of at most 2,000, each created with the wave's workloads and its cutover
// time as completeAfterDateTime and validated during the wave; at the wave's cutover each job is
// validated again if its validation is older than seven days, migrated, and polled, and every user
// whose task failed is recorded with the reason. Rollback cancels a job that has not finished.
// msgraph-sdk-go v1.89 has no models for these endpoints: small models of ours go through the
// client's request adapter (graph.Client.JSON).
package contentjobs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/phase"
)

const jobsPath = "/solutions/migrations/crossTenantMigrationJobs"

// Job states the service reports.
const (
	statusSubmitted      = "submitted"
	statusValidating     = "validating"
	statusValidatePassed = "validatePassed"
	statusValidateFailed = "validateFailed"
	statusMigrating      = "migrating"
	statusCompleted      = "completed"
	statusWithErrors     = "completedWithErrors"
	statusFailed         = "failed"
	statusCancelled      = "cancelled"
)

// job is a crossTenantMigrationJob, the properties t2t reads and writes.
type job struct {
	ID                    string   `json:"id,omitempty"`
	DisplayName           string   `json:"displayName"`
	CompleteAfterDateTime string   `json:"completeAfterDateTime"`
	SourceTenantID        string   `json:"sourceTenantId"`
	ResourceType          string   `json:"resourceType"`
	Resources             []string `json:"resources"`
	Workloads             []string `json:"workloads,omitempty"`
	Status                string   `json:"status,omitempty"`
	Message               string   `json:"message,omitempty"`
	LastUpdatedDateTime   string   `json:"lastUpdatedDateTime,omitempty"`
}

// task is a crossTenantMigrationTask: one user's migration, per workload.
type task struct {
	ID            string `json:"id"`
	CurrentStatus []struct {
		Service string `json:"service"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Errors  []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"currentStatus"`
}

// failure says why a user's task failed, "" when it did not.
func (t task) failure() string {
	var out []string
	for _, s := range t.CurrentStatus {
		if s.Status == "failed" || s.Status == "error" || s.Status == "invalid" {
			msg := s.Message
			if msg == "" && len(s.Errors) > 0 {
				msg = s.Errors[0].Code + ": " + s.Errors[0].Message
			}
			out = append(out, s.Service+": "+msg)
		}
	}
	return strings.Join(out, "; ")
}

type collection[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// findJob returns the target's job named name, nil when there is none.
func findJob(ctx context.Context, c *graph.Client, name string) (*job, error) {
	all, err := listJobs(ctx, c)
	if err != nil {
		return nil, err
	}
	return all[strings.ToLower(name)], nil
}

// listJobs reads the target's jobs, by lower-case display name (unique per tenant).
func listJobs(ctx context.Context, c *graph.Client) (map[string]*job, error) {
	var list collection[job]
	if err := c.JSON(ctx, http.MethodGet, jobsPath, nil, &list); err != nil {
		return nil, fmt.Errorf("listing cross-tenant migration jobs: %w", err)
	}
	out := make(map[string]*job, len(list.Value))
	for i := range list.Value {
		out[strings.ToLower(list.Value[i].DisplayName)] = &list.Value[i]
	}
	return out, nil
}

func getJob(ctx context.Context, c *graph.Client, id string) (*job, error) {
	var j job
	if err := c.JSON(ctx, http.MethodGet, jobsPath+"/"+id, nil, &j); err != nil {
		return nil, fmt.Errorf("reading job %s: %w", id, err)
	}
	return &j, nil
}

func createJob(ctx context.Context, c *graph.Client, j job) (*job, error) {
	var out job
	if err := c.JSON(ctx, http.MethodPost, jobsPath, j, &out); err != nil {
		return nil, fmt.Errorf("creating job %s: %w", j.DisplayName, err)
	}
	return &out, nil
}

// act runs validate, migrate or cancel.
func act(ctx context.Context, c *graph.Client, id, action string) error {
	if err := c.JSON(ctx, http.MethodPost, jobsPath+"/"+id+"/"+action, nil, nil); err != nil {
		return fmt.Errorf("%s of job %s: %w", action, id, err)
	}
	return nil
}

func tasks(ctx context.Context, c *graph.Client, id string) ([]task, error) {
	var out []task
	path := jobsPath + "/" + id + "/users"
	for path != "" {
		var page collection[task]
		if err := c.JSON(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, fmt.Errorf("reading the users of job %s: %w", id, err)
		}
		out = append(out, page.Value...)
		path = ""
		if page.NextLink != "" {
			if i := strings.Index(page.NextLink, jobsPath); i >= 0 {
				path = page.NextLink[i:]
			}
		}
	}
	return out, nil
}

// poll re-reads a job in a long-running state a few times.
func poll(ctx context.Context, c *graph.Client, j *job) (*job, error) {
	return phase.PollWhile(ctx, pollEvery, 10, j, func(j *job) string { return j.Status },
		func(ctx context.Context) (*job, error) { return getJob(ctx, c, j.ID) })
}

var pollEvery = 500 * time.Millisecond

// validationLifetime is how long a validation stays good (documented: seven days).
const validationLifetime = 7 * 24 * time.Hour
