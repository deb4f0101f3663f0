package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Service is a JSON REST client for a Microsoft admin service beside Graph (the Power Platform admin
// API, say) that msgraph-sdk-go does not reach: the same credential and tenant as the Graph client,
// a token for the service's resource, and the same retrying transport (429 with Retry-After, 5xx),
// without Graph's write pacing. Its errors are *ServiceError, which Inspect, IsRetryable, IsNotFound
// and Describe read like Graph's.
type Service struct {
	client  *http.Client
	cred    azcore.TokenCredential
	scope   string
	BaseURL string
}

// Service returns a client for the service whose resource (application ID URI) is resource, at
// baseURL.
func (c *Client) Service(resource, baseURL string) *Service {
	return &Service{client: &http.Client{Transport: c.service, Timeout: 100 * time.Second}, cred: c.cred,
		scope: strings.TrimSuffix(resource, "/") + "/.default", BaseURL: strings.TrimSuffix(baseURL, "/")}
}

// ServiceError is a failed call of a Service: its status and the service's error code and message.
type ServiceError struct {
	Status  int
	Code    string
	Message string
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends in (nil: no body) as JSON to path (relative to BaseURL, or absolute) and decodes the
// answer into out (nil: not read). It returns the status code.
func (s *Service) Do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encoding the body of %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	u := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		u = s.BaseURL + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{s.scope}})
	if err != nil {
		return 0, fmt.Errorf("token for %s: %w", s.scope, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, serviceError(resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding the answer: %w", method, req.URL.Path, err)
		}
	}
	return resp.StatusCode, nil
}

// serviceError reads the {"error":{"code","message"}} body admin services answer with.
func serviceError(status int, data []byte) *ServiceError {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &ServiceError{Status: status, Code: http.StatusText(status)}
	if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	return e
}

func inspectService(err error) (Info, bool) {
	var se *ServiceError
	if !errors.As(err, &se) {
		return Info{}, false
	}
	return Info{Status: se.Status, Code: se.Code, Message: se.Message}, true
}

// HTTP returns the service's HTTP client (the retrying transport, no token): for URLs that carry
// their own authorization, such as a SAS URI.
func (s *Service) HTTP() *http.Client { return s.client }
