package remote

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string // "" for none
	}{
		{name: "redis url", o: Options{URL: "redis://127.0.0.1:1/0"}},
		{name: "no server needed", o: Options{URL: "redis://user:pw@10.255.255.1:6379/2", Prefix: "shopedge:shop.example:"}},
		{name: "tls by scheme", o: Options{URL: "rediss://127.0.0.1:1/0", ServerName: "redis.internal"}},
		{name: "missing url", o: Options{}, wantErr: "url: required"},
		{name: "bad scheme", o: Options{URL: "http://127.0.0.1:1"}, wantErr: "invalid URL scheme"},
		{name: "bad db", o: Options{URL: "redis://:hunter2@127.0.0.1:1/x"}, wantErr: "url redis://:xxxxx@127.0.0.1:1/x"},
		{name: "brace in prefix", o: Options{URL: "redis://127.0.0.1:1", Prefix: "a{b}:"}, wantErr: "prefix"},
		{name: "negative budget", o: Options{URL: "redis://127.0.0.1:1", Budget: -time.Millisecond}, wantErr: "budget"},
		{name: "cert without key", o: Options{URL: "redis://127.0.0.1:1", CertFile: "c.pem"}, wantErr: "key file"},
		{name: "missing ca", o: Options{URL: "redis://127.0.0.1:1", CAFile: "/nonexistent/ca.pem"}, wantErr: "ca file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if h := s.Health(); !h.Up || !h.Shared {
					t.Errorf("Health after Open: %+v, want up", h)
				}
				if err := s.Close(t.Context()); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Open: no error, want one with %q", tt.wantErr)
			}
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open: got %q, want ErrOptions and %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Open error shows the password: %q", err)
			}
		})
	}
}

func TestPasswordNeverShown(t *testing.T) {
	s, err := Open(Options{URL: "redis://:urlsecret@127.0.0.1:1/0", Password: "optsecret", Timeout: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	if strings.Contains(s.addr, "urlsecret") || !strings.Contains(s.addr, "127.0.0.1:1") {
		t.Errorf("redacted address: got %q", s.addr)
	}
	_, _, _, err = s.Profile("v", nil)
	if err == nil {
		t.Fatal("Profile on a closed port: no error")
	}
	for _, text := range []string{err.Error(), s.Health().Err, s.scrub(errors.New("auth optsecret urlsecret"))} {
		if strings.Contains(text, "secret") {
			t.Errorf("a secret is shown: %q", text)
		}
	}
}

func TestStreamIDs(t *testing.T) {
	tests := []struct {
		a, b string
		less bool
	}{
		{"0", "1-0", true},
		{"1-0", "1-1", true},
		{"2-0", "10-0", true},
		{"10-0", "2-5", false},
		{"5-5", "5-5", false},
	}
	for _, tt := range tests {
		if got := idLess(tt.a, tt.b); got != tt.less {
			t.Errorf("idLess(%q, %q): got %v, want %v", tt.a, tt.b, got, tt.less)
		}
	}
}

func TestInvalidationMessage(t *testing.T) {
	msg := string(encodeInv("inst", []string{"a", "", "visitor-ü"}, []uint64{1, 0, 1 << 40}))
	var got []string
	if !decodeInv(msg, "other", func(id string, g uint64) { got = append(got, fmt.Sprint(id, g)) }) || strings.Join(got, ",") != "a1,0,visitor-ü1099511627776" {
		t.Errorf("decode: got %q", got)
	}
	got = nil
	if !decodeInv(msg, "inst", func(id string, _ uint64) { got = append(got, id) }) || len(got) != 0 {
		t.Errorf("decode of its own message: got %q, want none", got)
	}
	if decodeInv(msg[:len(msg)-2], "other", func(string, uint64) {}) {
		t.Error("decode of a cut message: no error")
	}
}
