package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"shopedge/rules"
)

// Issue 9, "Forwarded headers": what reaches the shop, read as raw bytes.

// rawShopRecorder is an upstream on loopback that keeps the raw header block
// (request line included) of every request it reads, and answers each with
// answer, keeping the connection open.
type rawShopRecorder struct {
	url    string
	answer string

	mu   sync.Mutex
	reqs []string
}

func newRawShopRecorder(t *testing.T, answer string) *rawShopRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &rawShopRecorder{url: "http://" + ln.Addr().String(), answer: answer}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *rawShopRecorder) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		var head strings.Builder
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" || line == "\n" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := io.CopyN(io.Discard, br, int64(length)); err != nil {
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, head.String())
		r.mu.Unlock()
		if _, err := io.WriteString(c, r.answer); err != nil {
			return
		}
	}
}

// requests returns the raw heads received so far.
func (r *rawShopRecorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// last returns the raw head of the last request received.
func (r *rawShopRecorder) last(t *testing.T) string {
	t.Helper()
	reqs := r.requests()
	if len(reqs) == 0 {
		t.Fatal("nothing reached the shop")
	}
	return reqs[len(reqs)-1]
}

// fieldValues returns the values of every field line named name in a raw
// head, in order, name compared without case.
func fieldValues(head, name string) []string {
	var out []string
	for _, line := range strings.Split(head, "\n")[1:] {
		line = strings.TrimSuffix(line, "\r")
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

// forgedForwarded is every forwarded header, each twice, as an attacker
// sends them.
const forgedForwarded = "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n" +
	"X-Forwarded-Proto: https\r\nX-Forwarded-Proto: https\r\n" +
	"X-Forwarded-Host: evil.example\r\nX-Forwarded-Host: evil2.example\r\n" +
	"X-Forwarded-Port: 443\r\nX-Forwarded-Port: 8443\r\n" +
	"X-Forwarded-Ssl: on\r\nX-Forwarded-Ssl: on\r\n" +
	"X-Forwarded-Scheme: https\r\nX-Forwarded-Scheme: https\r\n" +
	"X-Forwarded-Prefix: /admin\r\nX-Forwarded-Prefix: /evil\r\n" +
	"X-Forwarded-Server: a\r\nX-Forwarded-Server: b\r\n" +
	"Forwarded: for=6.6.6.6\r\nForwarded: for=7.7.7.7;host=evil.example\r\n" +
	"X-Real-IP: 6.6.6.6\r\nX-Real-IP: 7.7.7.7\r\n" +
	"X-Forwarded-Uri: /evil\r\nx-forwarded-for: 8.8.8.8\r\n"

// TestForwardedHeadersEveryCopy: issue 9. From a peer that is not a trusted
// proxy, no copy of a forwarded header survives, and the shop sees exactly
// one of each header shopedge sets; from a trusted proxy each is one header,
// the peer's values joined, X-Forwarded-For with the peer appended.
func TestForwardedHeadersEveryCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trusted bool
		headers string
		want    map[string][]string // header: the values the shop must see (nil: none)
	}{
		{
			name:    "untrusted peer, every copy removed",
			headers: forgedForwarded,
			want: map[string][]string{
				"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"shop.example"},
				"X-Forwarded-Port": nil, "X-Forwarded-Ssl": nil, "X-Forwarded-Scheme": nil, "X-Forwarded-Prefix": nil,
				"X-Forwarded-Server": nil, "Forwarded": nil, "X-Real-IP": nil, "X-Forwarded-Uri": nil,
			},
		},
		{
			name:    "untrusted peer, no forwarded headers",
			headers: "",
			want:    map[string][]string{"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"shop.example"}},
		},
		{
			name:    "trusted peer, copies joined",
			trusted: true,
			headers: "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 198.51.100.1, 10.0.0.2\r\n" +
				"X-Forwarded-Host: shop.example\r\nX-Forwarded-Host: www.shop.example\r\n" +
				"X-Forwarded-Proto: https\r\nForwarded: for=203.0.113.7\r\nForwarded: for=198.51.100.1\r\n",
			want: map[string][]string{
				"X-Forwarded-For":   {"203.0.113.7, 198.51.100.1, 10.0.0.2, 127.0.0.1"},
				"X-Forwarded-Host":  {"shop.example, www.shop.example"},
				"X-Forwarded-Proto": {"https"},
				"Forwarded":         {"for=203.0.113.7, for=198.51.100.1"},
			},
		},
		{
			name:    "trusted peer, none sent",
			trusted: true,
			want:    map[string][]string{"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"shop.example"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := newRawShopRecorder(t, okAnswer)
			e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
				if tt.trusted {
					c.Server.TrustedProxies = []string{"127.0.0.0/8"}
				}
			}))
			got := rawRequest(t, e.url, "GET /x HTTP/1.1\r\nHost: shop.example\r\n"+tt.headers+"Connection: close\r\n\r\n")
			if !strings.HasPrefix(got, "HTTP/1.1 200") {
				t.Fatalf("answer %.60q, want 200", got)
			}
			head := shop.last(t)
			for name, want := range tt.want {
				if vals := fieldValues(head, name); strings.Join(vals, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: got %q, want %q", name, vals, want)
				}
			}
		})
	}
}

// TestHeaderNames: issue 9. A field name that is not a token is refused
// with 400; names with '_' are dropped unless server.underscores_in_headers
// keeps them, and then the forwarded ones still are from untrusted peers.
func TestHeaderNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		underscores bool
		header      string
		status      string
		want        map[string][]string
	}{
		{name: "space in a name", header: "X-Forwarded For: 7.7.7.7\r\n", status: "HTTP/1.1 400"},
		{name: "space in Content-Length", header: "Content Length: 5\r\n", status: "HTTP/1.1 400"},
		{name: "control character in a name", header: "X-A\x01b: 1\r\n", status: "HTTP/1.1 400"},
		{name: "non-ASCII name", header: "X-\xc3\xa9: 1\r\n", status: "HTTP/1.1 400"},
		{
			name: "underscore names dropped", header: "X_Forwarded_For: 7.7.7.7\r\nX_Custom: 1\r\nX-Custom: 2\r\n", status: "HTTP/1.1 200",
			want: map[string][]string{"X_Forwarded_For": nil, "X_Custom": nil, "X-Custom": {"2"}, "X-Forwarded-For": {"127.0.0.1"}},
		},
		{
			name: "underscore names kept on request", underscores: true, header: "X_Forwarded_For: 7.7.7.7\r\nx_real_ip: 7.7.7.7\r\nX_Custom: 1\r\n", status: "HTTP/1.1 200",
			want: map[string][]string{"X_Forwarded_For": nil, "X_Real_Ip": nil, "X_Custom": {"1"}, "X-Forwarded-For": {"127.0.0.1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := newRawShopRecorder(t, okAnswer)
			e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.UnderscoresInHeaders = tt.underscores }))
			got := rawRequest(t, e.url, "GET /x HTTP/1.1\r\nHost: shop.example\r\n"+tt.header+"Connection: close\r\n\r\n")
			if !strings.HasPrefix(got, tt.status) {
				t.Fatalf("answer %.60q, want %s", got, tt.status)
			}
			if tt.want == nil {
				if n := len(shop.requests()); n != 0 {
					t.Fatalf("the shop got %d requests, want none", n)
				}
				return
			}
			head := shop.last(t)
			for name, want := range tt.want {
				if vals := fieldValues(head, name); strings.Join(vals, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: got %q, want %q", name, vals, want)
				}
			}
		})
	}
}

// TestConnectionHeaders: issue 9. The tokens of every Connection header
// name hop-by-hop headers, in both directions.
func TestConnectionHeaders(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: X-Up-A\r\nConnection: X-Up-B\r\n"+
		"X-Up-A: 1\r\nX-Up-B: 2\r\nX-Up-C: 3\r\nContent-Length: 2\r\n\r\nok")
	e := startProxy(t, demoConfig(t, shop.url, nil))
	got := rawRequest(t, e.url, "GET /x HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive\r\nConnection: X-Secret, X-Other\r\n"+
		"X-Secret: s\r\nX-Other: o\r\nX-Kept: k\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("answer %.60q, want 200", got)
	}
	head := shop.last(t)
	for name, want := range map[string][]string{"X-Secret": nil, "X-Other": nil, "Connection": nil, "X-Kept": {"k"}} {
		if vals := fieldValues(head, name); strings.Join(vals, "\n") != strings.Join(want, "\n") {
			t.Errorf("to the shop, %s: got %q, want %q", name, vals, want)
		}
	}
	resp, _, _ := strings.Cut(got, "\r\n\r\n")
	for name, want := range map[string][]string{"X-Up-A": nil, "X-Up-B": nil, "X-Up-C": {"3"}} {
		if vals := fieldValues(resp, name); strings.Join(vals, "\n") != strings.Join(want, "\n") {
			t.Errorf("to the visitor, %s: got %q, want %q", name, vals, want)
		}
	}
}

// TestRequestFraming: issue 9. The shop always gets HTTP/1.1; other
// versions than 1.0 and 1.1 get 505, transfer codings other than chunked
// 501 or 400, and nothing of them reaches the shop.
func TestRequestFraming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, status string
		shopLine          string // the request line the shop must see; "": none
	}{
		{"HTTP/1.0", "GET /x HTTP/1.0\r\nHost: shop.example\r\n\r\n", "HTTP/1.1 200", "GET /x HTTP/1.1"},
		{"HTTP/1.0 POST", "POST /x HTTP/1.0\r\nHost: shop.example\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 200", "POST /x HTTP/1.1"},
		{"HTTP/1.1", "GET /x HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 200", "GET /x HTTP/1.1"},
		{"HTTP/1.0 without Host", "GET /x HTTP/1.0\r\n\r\n", "HTTP/1.1 200", "GET /x HTTP/1.1"},
		{"Connection names Content-Length", "POST /x HTTP/1.1\r\nHost: shop.example\r\nConnection: Content-Length, close\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 200", "POST /x HTTP/1.1"},
		{"HTTP/1.2", "GET /x HTTP/1.2\r\nHost: shop.example\r\n\r\n", "HTTP/1.1 505", ""},
		{"HTTP/2.0", "GET /x HTTP/2.0\r\nHost: shop.example\r\n\r\n", "HTTP/1.1 505", ""},
		{"HTTP/0.9", "GET /x HTTP/0.9\r\nHost: shop.example\r\n\r\n", "HTTP/1.1 505", ""},
		{"HTTP/3.1", "GET /x HTTP/3.1\r\nHost: shop.example\r\n\r\n", "HTTP/1.1 505", ""},
		{"Transfer-Encoding: identity", "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 501", ""},
		{"Transfer-Encoding: identity, no length", "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: identity\r\n\r\n", "HTTP/1.1 501", ""},
		{"Transfer-Encoding: gzip", "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: gzip\r\n\r\nabc", "HTTP/1.1 400", ""},
		{"Transfer-Encoding: chunked", "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 200", "POST /x HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := newRawShopRecorder(t, okAnswer)
			e := startProxy(t, demoConfig(t, shop.url, nil))
			got := rawRequest(t, e.url, tt.raw)
			if !strings.HasPrefix(got, tt.status) {
				t.Errorf("answer %.60q, want %s", got, tt.status)
			}
			reqs := shop.requests()
			if tt.shopLine == "" {
				if len(reqs) != 0 {
					t.Errorf("the shop got %q, want nothing", reqs)
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("the shop got %d requests, want 1", len(reqs))
			}
			if line, _, _ := strings.Cut(reqs[0], "\r\n"); line != tt.shopLine {
				t.Errorf("the shop's request line: got %q, want %q", line, tt.shopLine)
			}
			for _, name := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "Host"} {
				if got := fieldValues(reqs[0], name); len(got) != 1 || got[0] == "" {
					t.Errorf("%s: got %q, want one value", name, got)
				}
			}
			if got := fieldValues(reqs[0], "X-Forwarded-Host"); len(got) > 1 || len(got) == 1 && got[0] == "" {
				t.Errorf("X-Forwarded-Host: got %q, want one value or none", got)
			}
			if strings.HasPrefix(tt.raw, "POST") {
				if got := fieldValues(reqs[0], "Content-Length"); len(got) != 1 || got[0] != "3" {
					t.Errorf("Content-Length: got %q, want [3]", got)
				}
			}
		})
	}
}

// TestBackslashPaths: issue 9. A path that a shop reading '\' as '/' (or
// decoding once more) would resolve under the reserved prefix is refused
// and never reaches the shop; other paths with '\' pass unchanged.
func TestBackslashPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, status string
		forwarded            bool
	}{
		{"backslash dot-dot", `/x\..\_shopedge/x`, "HTTP/1.1 400", false},
		{"backslash dot-dot to the prefix itself", `/x\..\_shopedge`, "HTTP/1.1 400", false},
		{"percent-encoded backslash", `/x%5C..%5C_shopedge/x`, "HTTP/1.1 400", false},
		{"lowercase percent-encoded backslash", `/x%5c..%5c_shopedge/overlay.js`, "HTTP/1.1 400", false},
		{"double-encoded backslash", `/x%255C..%255C_shopedge/x`, "HTTP/1.1 400", false},
		{"double-encoded slash", `/x/..%252F_shopedge/x`, "HTTP/1.1 400", false},
		{"mixed slashes", `/x/..\_shopedge\beacon`, "HTTP/1.1 400", false},
		{"other case", `/x\..\_SHOPEDGE/x`, "HTTP/1.1 400", false},
		{"backslash elsewhere", `/search\shoes`, "HTTP/1.1 200", true},
		{"backslash dot-dot elsewhere", `/a\..\b`, "HTTP/1.1 200", true},
		{"prefix-like name", `/x\..\_shopedgex/y`, "HTTP/1.1 200", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := newRawShopRecorder(t, okAnswer)
			e := startProxy(t, demoConfig(t, shop.url, nil))
			got := rawRequest(t, e.url, "GET "+tt.target+" HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(got, tt.status) {
				t.Errorf("answer %.60q, want %s", got, tt.status)
			}
			reqs := shop.requests()
			switch {
			case !tt.forwarded && len(reqs) != 0:
				t.Errorf("the shop got %q, want nothing", reqs)
			case tt.forwarded && len(reqs) != 1:
				t.Errorf("the shop got %d requests, want 1", len(reqs))
			case tt.forwarded:
				if line, _, _ := strings.Cut(reqs[0], "\r\n"); line != "GET "+tt.target+" HTTP/1.1" {
					t.Errorf("the shop's request line: got %q, want %q", line, "GET "+tt.target+" HTTP/1.1")
				}
			}
		})
	}
}

// answerWithin reads the first line the proxy answers to raw on a fresh
// connection, waiting at most d.
func answerWithin(t *testing.T, proxyURL, raw string, d time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(proxyURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// TestBareLF: issue 9. A request whose lines end in bare LFs is answered at
// once, never held until the read timeout: 400 when its header block ends
// in a bare LF, parsed when a CRLFCRLF ends it. Bare LFs in a body are the
// body's business.
func TestBareLF(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Minute) }))
	tests := []struct {
		name, raw, status string
	}{
		{"all bare", "GET /x HTTP/1.1\nHost: shop.example\n\n", "HTTP/1.1 400"},
		{"bare blank line", "GET /x HTTP/1.1\r\nHost: shop.example\r\n\n", "HTTP/1.1 400"},
		{"CRLF blank line after a bare line", "GET /x HTTP/1.1\r\nHost: shop.example\n\r\n", "HTTP/1.1 400"},
		{"bare request line only", "GET /x HTTP/1.0\n\n", "HTTP/1.1 400"},
		{"POST with a body", "POST /x HTTP/1.1\nHost: shop.example\nContent-Length: 3\n\nabc", "HTTP/1.1 400"},
		{"bare lines, CRLFCRLF end", "GET /x HTTP/1.1\nHost: shop.example\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		{"request line, empty CRLF block", "GET /x HTTP/1.0\n\r\n", "HTTP/1.1 200"},
		{"bare LFs in the body", "POST /x HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 8\r\nConnection: close\r\n\r\na\n\nb\n\r\nc", "HTTP/1.1 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := answerWithin(t, e.url, tt.raw, 3*time.Second); !strings.HasPrefix(got, tt.status) {
				t.Errorf("answer within 3s (read timeout 1m): got %q, want %s", got, tt.status)
			}
		})
	}
}

// TestBareLFBodyAfterContinue: a body that arrives after a 100 Continue
// and has bare blank lines of its own is read, not taken for a header
// block.
func TestBareLFBodyAfterContinue(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Minute) }))
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	body := "line\n\nmore\n\n"
	_, _ = io.WriteString(c, "POST /x HTTP/1.1\r\nHost: shop.example\r\nExpect: 100-continue\r\nContent-Length: "+strconv.Itoa(2*len(body))+"\r\n\r\n")
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("got %q, want 100 Continue", line)
	}
	for {
		if line, _ := br.ReadString('\n'); line == "\r\n" || line == "" {
			break
		}
	}
	_, _ = io.WriteString(c, body)
	_, _ = io.WriteString(c, body) // a second read, fasthttp waiting for it
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("got %q, want 200", line)
	}
}

// TestGuardConnScan: the header block is followed however the bytes are cut
// into reads.
func TestGuardConnScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		bare, head bool
	}{
		{"CRLF block", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, false},
		{"CRLF block, body with bare LFs", "POST / HTTP/1.1\r\nHost: a\r\n\r\na\n\nb\n\r\n", false, false},
		{"bare LF block", "GET / HTTP/1.1\nHost: a\n\n", true, true},
		{"bare blank line after CRLF lines", "GET / HTTP/1.1\r\nHost: a\r\n\n", true, true},
		{"CRLF blank line after a bare line", "GET / HTTP/1.1\r\nHost: a\n\r\n", true, true},
		{"empty block after a bare request line", "GET / HTTP/1.0\n\r\n", false, true},
		{"bare block, then a CRLFCRLF", "GET / HTTP/1.1\nHost: a\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", false, false},
		{"leading empty lines", "\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n", false, true},
		{"unfinished", "GET / HTTP/1.1\r\nHost: a\r\n", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 3, len(tt.in)} {
				c := guardConn{head: true}
				for in := tt.in; len(in) > 0; {
					n := min(size, len(in))
					c.scan([]byte(in[:n]))
					in = in[n:]
				}
				if c.bare != tt.bare || c.head != tt.head {
					t.Errorf("in reads of %d bytes: bare, head: got %v, %v, want %v, %v", size, c.bare, c.head, tt.bare, tt.head)
				}
			}
		})
	}
}

// TestBareLFKeptAlive: a bare-LF request after a good one on the same
// connection is answered at once too.
func TestBareLFKeptAlive(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Minute) }))
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(c)
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_, _ = io.WriteString(c, "GET /b HTTP/1.1\nHost: shop.example\n\n")
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("second request: got %q, want 400 at once", line)
	}
}

// BenchmarkScanHeaders is the per-request cost of scanHeaders on a
// browser's header block.
func BenchmarkScanHeaders(b *testing.B) {
	raw := []byte("Host: shop.example\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"131\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Windows\"\r\nUpgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: " + browserUA + "\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
		"Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n" +
		"Referer: https://shop.example/c/shoes\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-GB,en;q=0.9\r\nCookie: se_vid=eyJhbGciOiJIUzI1NiIsImtpZCI6InQxIn0.eyJ2aWQiOiJhYmMifQ.sig; cart=1\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if f := scanHeaders(raw); f.badName || f.forwarded {
			b.Fatal("wrong facts")
		}
	}
}

// TestServeTLS: Serve speaks TLS when server.tls is set, and the guarded
// connection still tells fasthttp it is TLS: the shop hears https.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop.example"},
		DNSNames: []string{"shop.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.TLS = &rules.TLS{Cert: certFile, Key: keyFile} }))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "shop.example"}}}
	resp, err := client.Get("https://" + strings.TrimPrefix(e.url, "http://") + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := fieldValues(shop.last(t), "X-Forwarded-Proto"); len(got) != 1 || got[0] != "https" {
		t.Errorf("X-Forwarded-Proto: got %q, want [https]", got)
	}
}

// FuzzGuardConnScan: however the bytes are cut into reads, the guard
// reaches the same verdict as on the whole, and scanHeaders never panics.
func FuzzGuardConnScan(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.0\n\r\n", "\n\r\n\nGET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\n\r\na\n\nb",
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		_ = scanHeaders(in)
		whole := guardConn{head: true}
		whole.scan(in)
		cut := guardConn{head: true}
		step := int(size%16) + 1
		for b := in; len(b) > 0; {
			n := min(step, len(b))
			cut.scan(b[:n])
			b = b[n:]
		}
		if whole.bare != cut.bare || whole.head != cut.head {
			t.Errorf("%q in reads of %d: bare, head: got %v, %v, want %v, %v", in, step, cut.bare, cut.head, whole.bare, whole.head)
		}
	})
}

// TestParseErrorsKeepCookiesOutOfLogs: fasthttp's own parse errors quote
// the bytes they failed on; with a debug log, a visitor's cookie must not
// be written there (SecureErrorLogMessage).
func TestParseErrorsKeepCookiesOutOfLogs(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	var logs logBuffer
	e := startProxyLogged(t, demoConfig(t, shop.url, nil), nil,
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	const secret = "sessionid=hunter2-visitor-secret"
	// A Content-Length that is not a number: fasthttp's parser refuses it
	// and quotes the header block in its error.
	raw := "POST /x HTTP/1.1\r\nHost: shop.example\r\nCookie: " + secret + "\r\nContent-Length: x1\r\n\r\n"
	if got := answerWithin(t, e.url, raw, 5*time.Second); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("got %q, want a 400", got)
	}
	if !strings.Contains(logs.String(), "bad request") {
		t.Fatalf("the refused request was not logged at debug level: %q", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the visitor's cookie is in the log: %q", logs.String())
	}
}
