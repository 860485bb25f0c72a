package redistest

import (
	"strings"
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/0") {
		t.Fatalf("URL: got %q", s.URL())
	}
	if r, err := s.command("SET", "k", "v"); err != nil || r != "+OK" {
		t.Fatalf("SET: got %q, %v", r, err)
	}
	s.Stop()
	if err := s.ping(); err == nil {
		t.Fatal("PING after Stop answered")
	}
	s.Restart()
	if r, err := s.command("GET", "k"); err != nil || r != "$-1" {
		t.Fatalf("GET after restart of a server without persistence: got %q, %v, want $-1", r, err)
	}
}

func TestAppendOnlyKeepsData(t *testing.T) {
	s := StartWith(t, Config{AppendOnly: true})
	if r, err := s.command("SET", "k", "v"); err != nil || r != "+OK" {
		t.Fatalf("SET: got %q, %v", r, err)
	}
	s.Kill()
	s.Restart()
	if r, err := s.command("GET", "k"); err != nil || r != "v" {
		t.Fatalf("GET after kill and restart: got %q, %v, want $1", r, err)
	}
}

func TestCluster(t *testing.T) {
	s := StartWith(t, Config{Cluster: true})
	if r, err := s.command("CLUSTER", "INFO"); err != nil || !strings.Contains(r, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO: got %q, %v", r, err)
	}
	s.Restart()
	if r, err := s.command("CLUSTER", "INFO"); err != nil || !strings.Contains(r, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO after restart: got %q, %v", r, err)
	}
}
