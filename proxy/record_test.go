package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"shopedge/rules"
)

// TestTooLargeViews: a page too large to rewrite passes through with the
// shop's headers, so a new visitor's cookie does not go out with it; their
// view is not recorded (they would come back as someone else, and each
// such request would leave a profile nobody owns). A returning visitor's
// view of it is.
func TestTooLargeViews(t *testing.T) {
	t.Parallel()
	big := smallPage + strings.Repeat(" ", 2<<20) // over the 1 MB limit
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/c/big": // too large by its Content-Length, passed through unread
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write([]byte(big))
		case "/c/big-chunked": // found too large as it is read
			_, _ = w.Write([]byte(big))
		default:
			_, _ = w.Write([]byte(smallPage))
		}
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Limits.MaxRewriteBody = 1 << 20 }))
	for i := range 6 {
		path := []string{"/c/big", "/c/big-chunked"}[i%2]
		pg := e.visitor().get(e.url + path)
		if len(pg.raw) != len(big) || pg.resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("new visitor %d, %s: %d bytes, Set-Cookie %q; want the shop's %d bytes and no cookie", i, path, len(pg.raw), pg.resp.Header.Get("Set-Cookie"), len(big))
		}
	}
	if got := metricValue(t, e.proxy, `shopedge_passthrough_total{reason="too_large"}`); got != "6" {
		t.Errorf("passed through as too large: %s, want 6", got)
	}
	if st := e.proxy.profiles.Stats(); st.Created != 0 {
		t.Errorf("%d profiles created for 6 new visitors who got no cookie, want 0", st.Created)
	}
	if got := metricValue(t, e.proxy, "shopedge_events_total"); got != "0" {
		t.Errorf("events recorded: %s, want 0", got)
	}

	v := e.visitor()
	v.get(e.url + "/") // the cookie
	v.get(e.url + "/c/big")
	if st := e.proxy.profiles.Stats(); st.Created != 1 {
		t.Errorf("profiles created: %d, want the returning visitor's 1", st.Created)
	}
	if got := metricValue(t, e.proxy, "shopedge_events_total"); got != "2" {
		t.Errorf("events recorded: %s, want the returning visitor's 2 views", got)
	}
}
