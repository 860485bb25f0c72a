package console

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// signInFrom posts token to /login from ip.
func signInFrom(c *Console, ip, tok string) *fasthttp.Response {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.ParseIP(ip), Port: 4000}, nil)
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/login")
	ctx.Request.Header.SetHost("127.0.0.1:9090")
	ctx.Request.Header.SetContentType("application/x-www-form-urlencoded")
	ctx.Request.SetBodyString("token=" + tok)
	c.Serve(&ctx)
	resp := &fasthttp.Response{}
	ctx.Response.CopyTo(resp)
	return resp
}

func TestSignInThrottled(t *testing.T) {
	now := t0
	var logs bytes.Buffer
	c := New(&fake{}, token, func() time.Time { return now }, slog.New(slog.NewTextHandler(&logs, nil)))
	for i := range perIPFailures {
		if r := signInFrom(c, "192.0.2.1", "guess"); r.StatusCode() != fasthttp.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, r.StatusCode())
		}
		now = now.Add(time.Second)
	}
	r := signInFrom(c, "192.0.2.1", token)
	if r.StatusCode() != fasthttp.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", perIPFailures, r.StatusCode())
	}
	// The first failure was at t0, now is t0+5s: 55 seconds to wait.
	if got := string(r.Header.Peek("Retry-After")); got != "55" {
		t.Errorf("Retry-After %q, want 55", got)
	}
	if got := string(r.Header.Peek("X-Frame-Options")); got != "DENY" {
		t.Errorf("429 lost X-Frame-Options: %q", got)
	}
	if r := signInFrom(c, "192.0.2.2", token); r.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("the right token from another IP: %d, want 303", r.StatusCode())
	}
	now = t0.Add(failWindow)
	if r := signInFrom(c, "192.0.2.1", token); r.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("a minute after the first failure: %d, want 303", r.StatusCode())
	}
	out := logs.String()
	if n := strings.Count(out, "console sign-in failed"); n != perIPFailures {
		t.Errorf("%d failures logged, want %d:\n%s", n, perIPFailures, out)
	}
	if n := strings.Count(out, "msg=\"console sign-in\""); n != 2 {
		t.Errorf("%d sign-ins logged, want 2:\n%s", n, out)
	}
	if strings.Contains(out, token) {
		t.Errorf("the token is in the log:\n%s", out)
	}
}

func TestSignInThrottledOverall(t *testing.T) {
	now := t0
	c := New(&fake{}, token, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	for i := range globalFailures {
		ip := net.IPv4(198, 51, byte(i/256), byte(i%256)).String()
		if r := signInFrom(c, ip, "guess"); r.StatusCode() != fasthttp.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.StatusCode())
		}
	}
	if r := signInFrom(c, "203.0.113.9", "guess"); r.StatusCode() != fasthttp.StatusTooManyRequests || len(r.Header.Peek("Retry-After")) == 0 {
		t.Errorf("past the overall cap, a new IP: %d Retry-After %q, want 429 with Retry-After", r.StatusCode(), r.Header.Peek("Retry-After"))
	}
	now = now.Add(failWindow)
	if r := signInFrom(c, "203.0.113.9", token); r.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("a minute later: %d, want 303", r.StatusCode())
	}
}
