package rules

import (
	"errors"
	"testing"
	"time"
)

// TestAttributionWindow: attribution.window left out is 24h; a window
// from 1s to 720h is taken as written; 0, a negative or a longer one, or
// no duration at all, is a problem placed at the field.
func TestAttributionWindow(t *testing.T) {
	t.Parallel()
	const head = "upstream:\n  url: http://127.0.0.1:8081\n"
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		problem string // "" when valid
	}{
		{name: "missing", yaml: head, want: 24 * time.Hour},
		{name: "section without window", yaml: head + "attribution: {}\n", want: 24 * time.Hour},
		{name: "hours", yaml: head + "attribution:\n  window: 72h\n", want: 72 * time.Hour},
		{name: "shortest", yaml: head + "attribution:\n  window: 1s\n", want: time.Second},
		{name: "longest", yaml: head + "attribution:\n  window: 720h\n", want: 720 * time.Hour},
		{name: "zero", yaml: head + "attribution:\n  window: 0s\n",
			problem: "config.yaml:4:11: attribution.window: want a duration of at least 1s, like 24h; got 0s"},
		{name: "below a second", yaml: head + "attribution:\n  window: 500ms\n",
			problem: "config.yaml:4:11: attribution.window: want a duration of at least 1s, like 24h; got 500ms"},
		{name: "negative", yaml: head + "attribution:\n  window: -1h\n",
			problem: `config.yaml:4:11: attribution.window: "-1h" is not a duration like 500ms, 30s or 2h`},
		{name: "too long", yaml: head + "attribution:\n  window: 721h\n",
			problem: "config.yaml:4:11: attribution.window: want at most 720h (30 days), got 721h"},
		{name: "not a duration", yaml: head + "attribution:\n  window: a day\n",
			problem: `config.yaml:4:11: attribution.window: "a day" is not a duration like 500ms, 30s or 2h`},
		{name: "unknown key", yaml: head + "attribution:\n  windw: 1h\n",
			problem: "config.yaml:4:3: attribution.windw: unknown field (see configs/reference.yaml for the fields there are)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("config.yaml", []byte(tt.yaml))
			if tt.problem != "" {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) != 1 {
					t.Fatalf("got %v, want one problem: %s", err, tt.problem)
				}
				if got := ps[0].Error(); got != tt.problem {
					t.Errorf("got %q, want %q", got, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Attribution.Window.D(); got != tt.want {
				t.Errorf("window %s, want %s", got, tt.want)
			}
		})
	}
}

// TestAttributionWindowInGo: a configuration made in Go that leaves the
// window out gets the default, as a file's does.
func TestAttributionWindowInGo(t *testing.T) {
	t.Parallel()
	c, err := Compile(&Config{Upstream: Upstream{URL: "http://127.0.0.1:8081"}})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if got := c.Attribution.Window.D(); got != 24*time.Hour {
		t.Errorf("window %s, want 24h", got)
	}
}
