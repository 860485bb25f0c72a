package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"shopedge/rules"
)

// TestSetMemoryLimit (issue 9): server.memory_limit is the runtime's soft
// memory limit; unset, GOMEMLIMIT wins, and without it the limit derived
// from the configured bounds applies. Not parallel: it sets the runtime's
// limit (and puts the old one back).
func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	cfg, err := rules.Parse("config.yaml", []byte("upstream:\n  url: http://127.0.0.1:8081\nprofiles:\n  max_memory: 128MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name     string
		limit    rules.ByteSize
		gomemlim string
		runtime  int64 // the runtime's limit before, as GOMEMLIMIT set it
		want     int64
		wantFrom string
	}{
		{name: "set", limit: 700 << 20, gomemlim: "1GiB", runtime: 1 << 30, want: 700 << 20, wantFrom: "server.memory_limit"},
		{name: "GOMEMLIMIT", gomemlim: "1GiB", runtime: 1 << 30, want: 1 << 30, wantFrom: "GOMEMLIMIT"},
		// 128MiB of profiles + 64MiB of page cache + 256MiB.
		{name: "derived", want: 448 << 20, wantFrom: "profiles.max_memory + limits.page_cache + 256MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.runtime != 0 {
				debug.SetMemoryLimit(tt.runtime)
			}
			cfg.Server.MemoryLimit = tt.limit
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.gomemlim
				}
				return ""
			}
			got, from := setMemoryLimit(cfg.Config, getenv, log)
			if got != tt.want || from != tt.wantFrom {
				t.Errorf("got %d from %q, want %d from %q", got, from, tt.want, tt.wantFrom)
			}
			if rt := debug.SetMemoryLimit(-1); rt != tt.want {
				t.Errorf("runtime's limit %d, want %d", rt, tt.want)
			}
		})
	}
}
