package funchost

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// logger writes timestamped, prefixed lines ("12:00:01.123 [StepRun] text") to one writer.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) line(prefix, msg string) {
	msg = strings.TrimRight(msg, "\r\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s [%s] %s\n", time.Now().Format("15:04:05.000"), prefix, msg)
}

// hostf logs a message of the host itself.
func (l *logger) hostf(format string, args ...any) { l.line("funchost", fmt.Sprintf(format, args...)) }

// fnf logs a message about, or from, one function.
func (l *logger) fnf(fn, format string, args ...any) { l.line(fn, fmt.Sprintf(format, args...)) }

// lineWriter returns a writer that logs each complete line written to it with the prefix; the
// handler's stdout and stderr go through one.
func (l *logger) lineWriter(prefix string) io.Writer { return &lineWriter{l: l, prefix: prefix} }

type lineWriter struct {
	l      *logger
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.l.line(w.prefix, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a very long line without a newline: flush it anyway
		w.l.line(w.prefix, string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}
