package localstack

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// StorageMeter counts the storage requests every process of a stack sends to Azurite, by service and
// operation, through a reverse proxy on each of Azurite's ports. Benchmarks use it to report storage
// operations per row; nothing else should (the proxy costs a little CPU per request).
type StorageMeter struct {
	mu      sync.Mutex
	counts  map[string]int64
	servers []*http.Server
}

// MeterAzurite puts a counting proxy in front of each of a's services and points a at the proxies, so
// that every connection string made from a afterwards is metered.
func MeterAzurite(a *Azurite) (*StorageMeter, error) {
	m := &StorageMeter{counts: map[string]int64{}}
	for _, svc := range []struct {
		name string
		port *int
	}{{"blob", &a.BlobPort}, {"queue", &a.QueuePort}, {"table", &a.TablePort}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("metering azurite %s: %w", svc.name, err)
		}
		target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", *svc.port))
		proxy := httputil.NewSingleHostReverseProxy(target)
		// Azurite (Node) closes idle keep-alive connections after 5 s; dropping ours first keeps the
		// proxy from reusing a connection Azurite is closing (a reset the SDKs would have to retry).
		proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 3 * time.Second}
		name := svc.name
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.add(name + " " + operation(name, r))
			proxy.ServeHTTP(w, r)
		})}
		m.servers = append(m.servers, srv)
		go func() { _ = srv.Serve(ln) }()
		*svc.port = ln.Addr().(*net.TCPAddr).Port
	}
	return m, nil
}

// operation names a request the way the storage REST API does, roughly: enough to tell table
// queries from writes and queue polls from sends.
func operation(service string, r *http.Request) string {
	q := r.URL.Query()
	switch {
	case service == "queue" && strings.HasSuffix(r.URL.Path, "/messages") && r.Method == http.MethodGet:
		return "receive"
	case service == "queue" && strings.HasSuffix(r.URL.Path, "/messages") && r.Method == http.MethodPost:
		return "send"
	case service == "table" && strings.HasSuffix(r.URL.Path, "/$batch"):
		return "batch"
	case service == "table" && r.Method == http.MethodGet && q.Get("$filter") != "":
		return "query"
	case q.Get("comp") != "":
		return strings.ToLower(r.Method) + " " + q.Get("comp")
	}
	return strings.ToLower(r.Method)
}

func (m *StorageMeter) add(op string) {
	m.mu.Lock()
	m.counts[op]++
	m.mu.Unlock()
}

// Counts returns the requests counted so far, by "service operation".
func (m *StorageMeter) Counts() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}

// Total sums counts, leaving out the operations named in except.
func Total(counts map[string]int64, except ...string) int64 {
	var n int64
	for k, v := range counts {
		if !slices.Contains(except, k) {
			n += v
		}
	}
	return n
}

// Keys lists counts' operations in order, for printing.
func Keys(counts map[string]int64) []string { return slices.Sorted(maps.Keys(counts)) }

// Close stops the proxies.
func (m *StorageMeter) Close() {
	for _, s := range m.servers {
		_ = s.Close()
	}
}
