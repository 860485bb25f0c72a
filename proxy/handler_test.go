package proxy

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopedge/rules"
)

// TestWaitedNotAdded: the time a request waits for the shop's body is
// never counted as time the proxy added (shopedge_added_seconds), on each
// path a body can take: a page over limits.max_rewrite_body by its
// Content-Length (read whole, passed through: the path that dropped it),
// one over it without a length (read up to the bound, then streamed), a
// page read and personalized, and a small body that is not a page.
func TestWaitedNotAdded(t *testing.T) {
	t.Parallel()
	const stall = 300 * time.Millisecond
	page := "<!DOCTYPE html><html><head><title>x</title></head><body><main>" + strings.Repeat("<p>shop text</p>", 500) + "</main></body></html>"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := page
		switch r.URL.Path {
		case "/small":
			body = page[:2000]
		case "/img.png":
			w.Header().Set("Content-Type", "image/png")
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		if r.URL.Path != "/chunked" {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		// The headers and a first part at once, the rest after a stall:
		// the proxy has its answer and waits for the body.
		_, _ = w.Write([]byte(body[:500]))
		w.(http.Flusher).Flush()
		time.Sleep(stall)
		_, _ = w.Write([]byte(body[500:]))
	}))
	t.Cleanup(up.Close)
	for _, tt := range []struct {
		name, path string
	}{
		{"over the bound by length", "/long"},
		{"over the bound, no length", "/chunked"},
		{"personalized", "/small"},
		{"not a page", "/img.png"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, up.URL, func(c *rules.Config) {
				c.Limits.MaxRewriteBody = 4 << 10
			}))
			start := time.Now()
			pg := e.visitor().get(e.url + tt.path)
			took := time.Since(start)
			if pg.resp.StatusCode != 200 || took < stall {
				t.Fatalf("status %d in %v, want 200 after the shop's %v", pg.resp.StatusCode, took, stall)
			}
			text := scrapeMetrics(t, e)
			if n := metric(t, text, "shopedge_added_seconds_count"); n != 1 {
				t.Fatalf("shopedge_added_seconds_count = %d, want 1", n)
			}
			added := metricFloat(t, text, "shopedge_added_seconds_sum")
			if added >= (stall / 2).Seconds() {
				t.Errorf("added %.3fs of a %v request whose shop stalled %v: the wait was counted as the proxy's", added, took, stall)
			}
		})
	}
}

// metricFloat returns the value of a series in Prometheus text.
func metricFloat(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the metrics", series)
	return 0
}
