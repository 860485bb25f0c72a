package proxy

import (
	"net/http"
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
	big := smallPage + strings.Repeat(" ", 2<<20) // over the 1 MB limit, by Content-Length
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/c/big" {
			_, _ = w.Write([]byte(big))
			return
		}
		_, _ = w.Write([]byte(smallPage))
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Limits.MaxRewriteBody = 1 << 20 }))
	for i := range 5 {
		pg := e.visitor().get(e.url + "/c/big")
		if len(pg.raw) != len(big) || pg.resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("new visitor %d: %d bytes, Set-Cookie %q; want the shop's %d bytes and no cookie", i, len(pg.raw), pg.resp.Header.Get("Set-Cookie"), len(big))
		}
	}
	if st := e.proxy.profiles.Stats(); st.Created != 0 {
		t.Errorf("%d profiles created for 5 new visitors who got no cookie, want 0", st.Created)
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
