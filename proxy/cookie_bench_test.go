package proxy

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkRequestCookie: one read of a cookie from a browser's jar as
// the server parsed it (the visitor token among a shop's cookies), the
// last of seven, and one that is not there: what each of a request's
// reads costs (identify, the preview, each overlay's dismissal).
func BenchmarkRequestCookie(b *testing.B) {
	token := strings.Repeat("x", 250)
	jar := "_ga=GA1.1.123456789.1700000000; _fbp=fb.1.1700000000000.123456789; sessionid=abcdef0123456789; csrftoken=T0k3n; " +
		`messages="abc\054def:1qX"; cart=3; se_vid=` + token
	var h fasthttp.RequestHeader
	if err := h.Read(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\nHost: x\r\nCookie: " + jar + "\r\n\r\n"))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(requestCookie(&h, "se_vid")) != len(token) || requestCookie(&h, "se_dismiss_exit") != nil {
			b.Fatal("wrong value")
		}
	}
}
