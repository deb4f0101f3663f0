package funchost

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed NCRONTAB expression, the timer trigger's schedule format:
// "{second} {minute} {hour} {day} {month} {day-of-week}". Each field takes *, a value, a range (1-5),
// a list (1,3,5), a step (*/5, 1-30/2, 5/10 meaning 5 to the field's end by 10), and for month and
// day-of-week the English names (JAN, January, MON, Monday; case-insensitive). Day-of-week runs 0
// (Sunday) to 6. As in NCrontab, a time matches only when both the day of month and the day of week
// match. A five-field expression (no seconds) is accepted as NCrontab does, with second 0.
type Schedule struct {
	expr                                              string
	seconds, minutes, hours, days, months, daysOfWeek uint64 // bit i set: value i allowed
}

// cronField describes one field's range and names.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the name of value min+i
}

var (
	secondField  = cronField{name: "second", min: 0, max: 59}
	minuteField  = cronField{name: "minute", min: 0, max: 59}
	hourField    = cronField{name: "hour", min: 0, max: 23}
	dayField     = cronField{name: "day", min: 1, max: 31}
	monthField   = cronField{name: "month", min: 1, max: 12, names: []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}}
	weekdayField = cronField{name: "day-of-week", min: 0, max: 6, names: []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}}
)

// ParseSchedule parses a six-field (or five-field) NCRONTAB expression.
func ParseSchedule(expr string) (*Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) == 5 {
		fields = append([]string{"0"}, fields...)
	}
	if len(fields) != 6 {
		return nil, fmt.Errorf("schedule %q: NCRONTAB needs six fields {second} {minute} {hour} {day} {month} {day-of-week}", expr)
	}
	s := &Schedule{expr: expr}
	specs := []struct {
		f   cronField
		dst *uint64
	}{
		{secondField, &s.seconds}, {minuteField, &s.minutes}, {hourField, &s.hours},
		{dayField, &s.days}, {monthField, &s.months}, {weekdayField, &s.daysOfWeek},
	}
	for i, spec := range specs {
		bits, err := spec.f.parse(fields[i])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", expr, err)
		}
		*spec.dst = bits
	}
	return s, nil
}

// String returns the expression the schedule was parsed from.
func (s *Schedule) String() string { return s.expr }

// parse reads one field: a comma-separated list of items.
func (f cronField) parse(text string) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(text, ",") {
		b, err := f.parseItem(item)
		if err != nil {
			return 0, fmt.Errorf("%s field %q: %w", f.name, text, err)
		}
		bits |= b
	}
	return bits, nil
}

// parseItem reads "*", "v", "a-b", each optionally followed by "/step".
func (f cronField) parseItem(item string) (uint64, error) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("bad step %q", stepText)
		}
		step = n
	}
	lo, hi := f.min, f.max
	if rng != "*" {
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return 0, err
		}
		hi = lo
		if isRange {
			if hi, err = f.value(b); err != nil {
				return 0, err
			}
		} else if hasStep {
			hi = f.max // "5/10": from 5 to the end, every 10
		}
		if hi < lo {
			return 0, fmt.Errorf("range %q runs backwards", rng)
		}
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << uint(v)
	}
	return bits, nil
}

// value reads a number or a name (three-letter or full, case-insensitive) within the field's range.
func (f cronField) value(text string) (int, error) {
	if n, err := strconv.Atoi(text); err == nil {
		if n < f.min || n > f.max {
			return 0, fmt.Errorf("%d is outside %d-%d", n, f.min, f.max)
		}
		return n, nil
	}
	t := strings.ToLower(text)
	for i, name := range f.names {
		if len(t) >= 3 && strings.HasPrefix(name, t) {
			return f.min + i, nil
		}
	}
	return 0, fmt.Errorf("%q is not a %s", text, f.name)
}

func has(bits uint64, v int) bool { return bits&(1<<uint(v)) != 0 }

// errNoOccurrence means the schedule never matches (e.g. February 30th).
var errNoOccurrence = errors.New("the schedule has no occurrence in the next five years")

// Next returns the first time strictly after t, to the second and in t's location, that matches the
// schedule. It returns an error when none exists in the next five years.
func (s *Schedule) Next(t time.Time) (time.Time, error) {
	loc := t.Location()
	t = t.Truncate(time.Second).Add(time.Second)
	limit := t.Year() + 5
	for t.Year() <= limit {
		next, ok := s.advance(t, loc)
		if ok {
			return t, nil
		}
		if !next.After(t) { // a wall-clock time repeated at a DST change: step plainly
			next = t.Add(time.Second)
		}
		t = next
	}
	return time.Time{}, fmt.Errorf("schedule %q: %w", s.expr, errNoOccurrence)
}

// advance reports whether t matches; if not, it returns the start of the next unit worth checking.
func (s *Schedule) advance(t time.Time, loc *time.Location) (time.Time, bool) {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	switch {
	case !has(s.months, int(mo)):
		return time.Date(y, mo+1, 1, 0, 0, 0, 0, loc), false
	case !has(s.days, d) || !has(s.daysOfWeek, int(t.Weekday())):
		return time.Date(y, mo, d+1, 0, 0, 0, 0, loc), false
	case !has(s.hours, h):
		return time.Date(y, mo, d, h+1, 0, 0, 0, loc), false
	case !has(s.minutes, mi):
		return time.Date(y, mo, d, h, mi+1, 0, 0, loc), false
	case !has(s.seconds, sec):
		return time.Date(y, mo, d, h, mi, sec+1, 0, loc), false
	}
	return t, true
}
