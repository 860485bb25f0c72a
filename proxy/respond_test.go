package proxy

import (
	"io"
	"net/http"
	"slices"
	"testing"
)

// TestPrivateHasOneCacheControl: a personalized page goes out with one
// Cache-Control, "private, no-store", however many lines of it the shop
// sent: caches read several lines as one list (RFC 9110 section 5.3), so
// a second "public, max-age=60" would have stood beside it.
func TestPrivateHasOneCacheControl(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Add("Cache-Control", "public, max-age=60, s-maxage=600")
		w.Header().Add("Cache-Control", "public, max-age=60")
		_, _ = io.WriteString(w, smallPage)
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	v := e.visitor()
	for range 3 { // interest in category B: its menu entry moves up
		v.get(e.url + "/c/b")
	}
	pg := v.get(e.url + "/")
	if pg.body == smallPage {
		t.Fatal("the page was not personalized; the test needs it to be")
	}
	if got := pg.resp.Header.Values("Cache-Control"); !slices.Equal(got, []string{"private, no-store"}) {
		t.Errorf("Cache-Control lines %q, want only \"private, no-store\"", got)
	}
}

// TestNoContentTypeAdded: a response the shop sent without a Content-Type
// goes out without one, so that the browser sniffs it as it would from
// the shop (an HTML page shows as a page), for a page the proxy may
// rewrite and for anything else, GET and HEAD.
func TestNoContentTypeAdded(t *testing.T) {
	t.Parallel()
	const body = "<!doctype html><p>hello"
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // net/http would sniff one
		_, _ = io.WriteString(w, body)
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	for _, tc := range []struct{ method, path string }{
		{"GET", "/p/untyped"}, {"HEAD", "/p/untyped"}, {"GET", "/files/untyped.bin"},
	} {
		v := e.visitor()
		req, _ := http.NewRequest(tc.method, e.url+tc.path, nil)
		resp, got := v.doRaw(req)
		if ct, ok := resp.Header["Content-Type"]; ok {
			t.Errorf("%s %s: Content-Type %q added; the shop sent none", tc.method, tc.path, ct)
		}
		if want := body; tc.method == "HEAD" {
			want = ""
			if string(got) != want {
				t.Errorf("%s %s: body %q", tc.method, tc.path, got)
			}
		} else if string(got) != want {
			t.Errorf("%s %s: body %q, want the shop's %q", tc.method, tc.path, got, want)
		}
	}
}
