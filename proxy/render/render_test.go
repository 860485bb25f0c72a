package render

import (
	"testing"
	"time"
)

func TestWithParam(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, want string }{
		{"/p/a", "/p/a?se_rec=b"},
		{"/p/a?x=1", "/p/a?x=1&se_rec=b"},
		{"/p/a?", "/p/a?se_rec=b"},
		{"/p/a#reviews", "/p/a?se_rec=b#reviews"},
		{"/p/a?x=1#r?s", "/p/a?x=1&se_rec=b#r?s"},
	} {
		if got := withParam(c.url, "se_rec", "b"); got != c.want {
			t.Errorf("withParam(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}

// TestOnOrigin: which URLs shopedge puts on a page get the request's
// origin in front when the page's <base href> points elsewhere: its own
// root-relative paths, nothing else.
func TestOnOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, origin, u, want string
	}{
		{name: "path", origin: "https://shop.example", u: "/p/x?se_rec=b", want: "https://shop.example/p/x?se_rec=b"},
		{name: "no origin", u: "/p/x", want: "/p/x"},
		{name: "absolute on a CDN", origin: "https://shop.example", u: "https://cdn.example/x.jpg", want: "https://cdn.example/x.jpg"},
		{name: "scheme-relative", origin: "https://shop.example", u: "//cdn.example/x.jpg", want: "//cdn.example/x.jpg"},
		{name: "empty", origin: "https://shop.example", u: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := onOrigin(tt.origin, tt.u); got != tt.want {
				t.Errorf("onOrigin(%q, %q) = %q, want %q", tt.origin, tt.u, got, tt.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{50 * time.Hour, "2 days"}, {47 * time.Hour, "47 hours"}, {61 * time.Minute, "1 hour"}, {2 * time.Minute, "2 minutes"}, {30 * time.Second, "less than a minute"}} {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}
