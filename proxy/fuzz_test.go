package proxy

import (
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/identity"
	"shopedge/rules"
)

// FuzzVisitorCookie: whatever Cookie header a visitor sends, identifying
// them never fails or panics; they are the visitor a valid token names, or
// a new one.
func FuzzVisitorCookie(f *testing.F) {
	cfg := demoConfig(f, "http://127.0.0.1:1", nil)
	p, err := New(compile(f, cfg), Options{
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
	conf := p.conf.Load()
	f.Fuzz(func(t *testing.T, cookie string) {
		var req fasthttp.Request
		req.SetRequestURI("/")
		req.Header.Set("Cookie", cookie)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
		x := &exchange{ctx: &ctx, conf: conf}
		p.identify(x)
		if !identity.ValidVisitorID(x.visitorID) {
			t.Fatalf("visitor id %q", x.visitorID)
		}
		if x.returning && x.visitorID != id {
			t.Fatalf("cookie %q made returning visitor %q", cookie, x.visitorID)
		}
		if !x.returning && !x.refresh {
			t.Fatalf("a new visitor gets no token")
		}
	})
}

// FuzzDecodeBeacon: the beacon decoder never panics, and what it accepts
// is a known event and an id of the configuration's form.
func FuzzDecodeBeacon(f *testing.F) {
	for _, s := range []string{
		`{"e":"shown","id":"exit-offer"}`,
		`{"e":"banner","id":"free-shipping"}`,
		`{"e":"shown","id":"exit-offer"} `,
		`{"e":"shown","id":"exit-offer"}{}`,
		`{"e":"shown","id":"<script>"}`,
		`{"e":null,"id":"x"}`,
		`{"id":"x","e":"clicked","e":"shown"}`,
		`[]`, `""`, `{`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeBeacon(b)
		if err != nil {
			return
		}
		if !slices.Contains(beaconEvents, ev.Event) || !rules.ValidID(ev.ID) {
			t.Fatalf("accepted %q as %+v", b, ev)
		}
	})
}
