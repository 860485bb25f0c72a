package proxy

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/identity"
)

// FuzzVisitorCookie: whatever Cookie header a visitor sends, identifying
// them never fails or panics; they are the visitor a valid token names, or
// a new one.
func FuzzVisitorCookie(f *testing.F) {
	cfg := demoConfig(f, "http://127.0.0.1:1", nil)
	p, err := New(cfg, Options{
		Keys:   []identity.Key{{ID: "t1", Secret: testSecret}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	const id = "gJYpXZJ0GyjZCxBswS8CIw"
	good, _ := p.ids.Issue(id)
	for _, s := range []string{
		"se_vid=" + good,
		"a=1; se_vid=" + good + "; b=2",
		"se_vid=" + good + "x",
		"se_vid=; se_vid=" + good,
		`se_vid="` + good + `"`,
		"se_vid",
		"=;;; ;=",
		strings.Repeat("se_vid=a;", 200),
	} {
		f.Add(s)
	}
	st := p.state.Load()
	f.Fuzz(func(t *testing.T, cookie string) {
		var req fasthttp.Request
		req.SetRequestURI("/")
		req.Header.Set("Cookie", cookie)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
		var v visit
		p.identify(&ctx, st, &v)
		if !identity.ValidVisitorID(v.id) {
			t.Fatalf("visitor id %q", v.id)
		}
		if v.returning && v.id != id {
			t.Fatalf("cookie %q made returning visitor %q", cookie, v.id)
		}
		if !v.returning && !v.issue {
			t.Fatalf("a new visitor gets no token")
		}
	})
}
