package funchost

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	from := time.Date(2024, 3, 15, 10, 20, 30, 0, time.UTC) // a Friday
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		expr string
		from time.Time
		want time.Time
	}{
		{"*/5 * * * * *", from, at(2024, 3, 15, 10, 20, 35)},
		{"0 */5 * * * *", from, at(2024, 3, 15, 10, 25, 0)},
		{"0 0 * * * *", from, at(2024, 3, 15, 11, 0, 0)},
		{"0 30 9 * * *", from, at(2024, 3, 16, 9, 30, 0)},
		{"0 30 9 * * 1-5", from, at(2024, 3, 18, 9, 30, 0)},
		{"0 0 12 * * MON", from, at(2024, 3, 18, 12, 0, 0)},
		{"0 0 0 * * 0", from, at(2024, 3, 17, 0, 0, 0)},
		{"0 0 0 * * sunday", from, at(2024, 3, 17, 0, 0, 0)},
		{"0 0 0 1 JAN *", from, at(2025, 1, 1, 0, 0, 0)},
		{"0 0 0 29 feb *", from, at(2028, 2, 29, 0, 0, 0)},
		{"0 0 0 13 * FRI", from, at(2024, 9, 13, 0, 0, 0)}, // day AND day-of-week, as NCrontab
		{"15,45 * * * * *", from, at(2024, 3, 15, 10, 20, 45)},
		{"5/20 * * * * *", from, at(2024, 3, 15, 10, 20, 45)},
		{"0 0 9-17/4 * * *", from, at(2024, 3, 15, 13, 0, 0)},
		{"30 9 * * *", from, at(2024, 3, 16, 9, 30, 0)}, // five fields: seconds 0
		{"30 20 10 * * *", from, at(2024, 3, 16, 10, 20, 30)},
		{"0 0 0 1 1 *", at(2024, 12, 31, 23, 59, 59), at(2025, 1, 1, 0, 0, 0)},
		{"0 0 0 * JUN-AUG SAT,SUN", from, at(2024, 6, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.expr, err)
			continue
		}
		got, err := s.Next(tt.from)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%q from %s: got %s (%v), want %s", tt.expr, tt.from, got, err, tt.want)
		}
	}
}

func TestScheduleNextKeepsLocation(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	s, _ := ParseSchedule("0 0 9 * * *")
	got, err := s.Next(time.Date(2024, 3, 15, 10, 0, 0, 0, loc))
	if want := time.Date(2024, 3, 16, 9, 0, 0, 0, loc); err != nil || !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, expr := range []string{
		"", "* * * *", "* * * * * * *", "60 * * * * *", "* 60 * * * *", "* * 24 * * *", "* * * 0 * *",
		"* * * * 13 *", "* * * * * 7", "*/0 * * * * *", "5-1 * * * * *", "* * * * FOO *", "a * * * * *",
	} {
		if _, err := ParseSchedule(expr); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", expr)
		}
	}
	s, err := ParseSchedule("0 0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(time.Now()); err == nil {
		t.Error("February 30th has a next occurrence")
	}
}
