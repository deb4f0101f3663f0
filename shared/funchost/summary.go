package funchost

import (
	"strings"
)

// reportLoad prints load warnings (each once), skipped functions and disabled ones.
func (h *Host) reportLoad() {
	for _, w := range h.app.warnings {
		h.log.hostf("warning: %s", w)
	}
	for _, p := range h.app.problems {
		h.log.hostf("error: function %s; it will not run", p)
	}
	if len(h.app.disabled) > 0 {
		h.log.hostf("disabled: %s", strings.Join(h.app.disabled, ", "))
	}
}

// printSummary prints the functions found with their triggers and the HTTP base URL.
func (h *Host) printSummary() {
	a := h.app
	h.log.hostf("local Functions host: root %s, host id %s, handler %s", a.root, a.hostID, h.worker.exe)
	base := h.url
	if a.host.routePrefix != "" {
		base += "/" + a.host.routePrefix
	}
	width := 0
	for _, fn := range a.functions {
		width = max(width, len(fn.name))
	}
	h.log.hostf("functions:")
	for _, fn := range a.functions {
		pad := strings.Repeat(" ", width-len(fn.name))
		h.log.hostf("  %s%s  %s", fn.name, pad, fn.triggerSummary(base, a.host.queues, h.cfg.BlobScanInterval.String()))
	}
	h.log.hostf("HTTP base URL %s", base)
}
