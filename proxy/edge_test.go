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
	"fmt"
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

// checkFields fails for each field of want whose values in the raw head
// are not exactly want's (nil: the field is absent); where says whose head.
func checkFields(t *testing.T, where, head string, want map[string][]string) {
	t.Helper()
	for name, w := range want {
		if vals := fieldValues(head, name); strings.Join(vals, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s%s: got %q, want %q", where, name, vals, w)
		}
	}
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
		{
			// A forwarded header a trusted peer's Connection header names
			// is hop-by-hop: removed, and joining the copies of the others
			// does not bring it back; shopedge's own are set as when none
			// came.
			name:    "trusted peer, X-Forwarded-For named by Connection",
			trusted: true,
			headers: "Connection: X-Forwarded-For\r\nX-Forwarded-For: 6.6.6.6\r\n",
			want:    map[string][]string{"X-Forwarded-For": {"127.0.0.1"}},
		},
		{
			name:    "trusted peer, named ones among copies joined",
			trusted: true,
			headers: "Connection: X-Forwarded-Host, Forwarded\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 198.51.100.1\r\n" +
				"X-Forwarded-Host: evil.example\r\nX-Forwarded-Host: evil2.example\r\nForwarded: for=6.6.6.6\r\nForwarded: for=7.7.7.7\r\n" +
				"X-Forwarded-Proto: https\r\nX-Forwarded-Proto: https\r\n",
			want: map[string][]string{
				"X-Forwarded-For":   {"203.0.113.7, 198.51.100.1, 127.0.0.1"},
				"X-Forwarded-Host":  {"shop.example"},
				"Forwarded":         nil,
				"X-Forwarded-Proto": {"https, https"},
			},
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
			checkFields(t, "", shop.last(t), tt.want)
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
			checkFields(t, "", shop.last(t), tt.want)
		})
	}
}

// TestRefusedCloses: a request refused for its framing or its header
// block is answered and its connection closed, so that whatever followed
// it (here a pipelined GET) is never read as a request of its own: the
// shop hears nothing of either. Without "Connection: close" from the
// client, unlike the tests above.
func TestRefusedCloses(t *testing.T) {
	t.Parallel()
	const after = "GET /after HTTP/1.1\r\nHost: shop.example\r\n\r\n"
	for _, tc := range []struct{ name, raw string }{
		{"space in Content-Length", "POST /x HTTP/1.1\r\nHost: shop.example\r\nContent Length: 5\r\n\r\nhello"},
		{"trailer fields", "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n"},
		{"into the prefix", "GET /x%5C..%5C_shopedge/x HTTP/1.1\r\nHost: shop.example\r\n\r\n"},
		{"credentials in Host", "GET /x HTTP/1.1\r\nHost: shop.example:@evil.example\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shop := newRawShopRecorder(t, okAnswer)
			e := startProxy(t, demoConfig(t, shop.url, nil))
			c := dialProxy(t, e.url)
			if _, err := io.WriteString(c, tc.raw+after); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			b, err := io.ReadAll(c) // to the proxy's close; a deadline error if it kept the connection
			got := string(b)
			if err != nil {
				t.Errorf("the connection stayed open: %v", err)
			}
			if !strings.HasPrefix(got, "HTTP/1.1 400") || strings.Count(got, "HTTP/1.1 ") != 1 || !strings.Contains(got, "\r\nConnection: close\r\n") {
				t.Errorf("answer %q, want one 400 with Connection: close", got)
			}
			if reqs := shop.requests(); len(reqs) != 0 {
				t.Errorf("the shop got %q, want nothing", reqs)
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
	checkFields(t, "to the shop, ", shop.last(t), map[string][]string{"X-Secret": nil, "X-Other": nil, "Connection": nil, "X-Kept": {"k"}})
	resp, _, _ := strings.Cut(got, "\r\n\r\n")
	checkFields(t, "to the visitor, ", resp, map[string][]string{"X-Up-A": nil, "X-Up-B": nil, "X-Up-C": {"3"}})
}

// TestTrailerHopFields: a shop's trailer fields are the shop's, but
// those that are hop-by-hop (Upgrade, the one fasthttp takes as a trailer
// field) never reach the visitor, on a page passed through whole and on a
// page personalized; the others are kept. (Deleting the Trailer header
// moves fasthttp's trailer fields into the headers: a one-pass look at
// the headers before it would miss them.)
func TestTrailerHopFields(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, ctype, path, accept string }{
		{"passed through", "text/plain", "/x.txt", "*/*"},
		{"personalized", "text/html; charset=utf-8", "/c/shoes", "text/html"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			body := "<!DOCTYPE html><html><head><title>t</title></head><body><p>shop</p></body></html>"
			shop := newRawShopRecorder(t, "HTTP/1.1 200 OK\r\nContent-Type: "+c.ctype+"\r\nTrailer: Upgrade, X-Tr\r\nTransfer-Encoding: chunked\r\n\r\n"+
				fmt.Sprintf("%x\r\n%s\r\n0\r\nUpgrade: h2c\r\nX-Tr: 1\r\n\r\n", len(body), body))
			e := startProxy(t, demoConfig(t, shop.url, nil))
			got := rawRequest(t, e.url, "GET "+c.path+" HTTP/1.1\r\nHost: shop.example\r\nAccept: "+c.accept+"\r\nUser-Agent: "+browserUA+"\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(got, "HTTP/1.1 200") {
				t.Fatalf("answer %.60q, want 200", got)
			}
			if strings.Contains(strings.ToLower(got), "upgrade:") || strings.Contains(got, "h2c") {
				t.Errorf("the shop's Upgrade trailer field reached the visitor:\n%s", got)
			}
			if !strings.Contains(got, "shop</p>") {
				t.Errorf("the page is not there:\n%s", got)
			}
		})
	}
	if hopHeaders[trailerIndex] != "Trailer" {
		t.Fatalf("trailerIndex %d is %q", trailerIndex, hopHeaders[trailerIndex])
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

// TestRequestFramingTrailers: issue 9. A chunked request's trailer
// section would reach the shop past every header rule (fasthttp moves
// trailer fields into the headers when Trailer is removed): a request
// whose body carries trailer fields gets 400, and nothing of it reaches
// the shop. Browsers never send request trailers.
func TestRequestFramingTrailers(t *testing.T) {
	t.Parallel()
	const head = "POST /x HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n"
	tests := []struct {
		name, raw, status string
		forwarded         bool
	}{
		{"forged forwarded trailers", head + "\r\n2\r\nhi\r\n0\r\nForwarded: for=7.7.7.7;host=evil.example\r\n" +
			"X_Forwarded_Host: evil.example\r\nX-Client-IP: 7.7.7.7\r\nFoo Bar: x\r\n\r\n", "HTTP/1.1 400", false},
		{"announced trailer", head + "Trailer: X-Checksum\r\n\r\n2\r\nhi\r\n0\r\nX-Checksum: 1\r\n\r\n", "HTTP/1.1 400", false},
		{"one plain trailer", head + "\r\n2\r\nhi\r\n0\r\nX-Checksum: 1\r\n\r\n", "HTTP/1.1 400", false},
		{"no trailer fields", head + "\r\n2\r\nhi\r\n0\r\n\r\n", "HTTP/1.1 200", true},
		{"Trailer announced, none sent", head + "Trailer: X-Checksum\r\n\r\n2\r\nhi\r\n0\r\n\r\n", "HTTP/1.1 200", true},
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
			if !tt.forwarded {
				if len(reqs) != 0 {
					t.Errorf("the shop got %q, want nothing", reqs)
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("the shop got %d requests, want 1", len(reqs))
			}
			for _, name := range []string{"Trailer", "X-Checksum", "Forwarded", "Transfer-Encoding"} {
				if v := fieldValues(reqs[0], name); len(v) != 0 {
					t.Errorf("%s reached the shop: %q", name, v)
				}
			}
			if v := fieldValues(reqs[0], "Content-Length"); len(v) != 1 || v[0] != "2" {
				t.Errorf("Content-Length: got %q, want [2]", v)
			}
		})
	}
}

// TestBackslashPaths: issue 9. A path that a shop reading '\' as '/' (or
// decoding once more) would resolve under the reserved prefix is refused
// and never reaches the shop; other paths with '\' pass unchanged. The
// prefix in another case is shopedge's too (not found), as IIS reads it.
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
		{"prefix in other case", `/_SHOPEDGE/x`, "HTTP/1.1 404", false},
		{"prefix in other case, decoded", `/%5FShopEdge/shopedge.js`, "HTTP/1.1 404", false},
		{"prefix in other case, dot segments", `/_SHOPEDGE/../x`, "HTTP/1.1 404", false},
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
	c := dialProxy(t, proxyURL)
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
		{"leading CRLFCRLF", "\r\n\r\nGET /x HTTP/1.1\nHost: shop.example\n\n", "HTTP/1.1 400"},
		{"leading CRLF", "\r\nGET /x HTTP/1.1\nHost: shop.example\n\n", "HTTP/1.1 400"},
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
	c := dialProxy(t, e.url)
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

// TestGuardConnScan: the guard follows the stream as fasthttp frames it,
// request after request, and agrees with guardModel however the bytes are
// cut into reads. bare: the next read fails; off: the guard gave up.
func TestGuardConnScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reads     []string
		bare, off bool
	}{
		{"CRLF block", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n"}, false, false},
		{"CRLF block, body with bare LFs", []string{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\na\n\nb\n\r\nc"}, false, false},
		{"bare LF block", []string{"GET / HTTP/1.1\nHost: a\n\n"}, true, false},
		{"bare blank line after CRLF lines", []string{"GET / HTTP/1.1\r\nHost: a\r\n\n"}, true, false},
		{"CRLF blank line after a bare line", []string{"GET / HTTP/1.1\r\nHost: a\n\r\n"}, true, false},
		{"empty block after a bare request line", []string{"GET / HTTP/1.0\n\r\n"}, false, false},
		{"bare request line, bare blank line", []string{"GET / HTTP/1.0\n\n"}, true, false},
		{"bare block, a CRLFCRLF in the same read", []string{"GET / HTTP/1.1\nHost: a\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"}, false, false},
		{"bare block, a CRLFCRLF in the next read", []string{"GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"}, true, false},
		{"leading empty lines", []string{"\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n"}, false, false},
		{"leading CRLFCRLF, then a bare block", []string{"\r\n\r\nGET /x HTTP/1.1\nHost: a\n\n"}, true, false},
		{"unfinished", []string{"GET / HTTP/1.1\r\nHost: a\r\n"}, false, false},
		{"pipelined, bare second", []string{"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\nHost: a\n\n"}, true, false},
		{"pipelined, body with bare LFs over reads", []string{
			"GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n",
			"\r\nlin", "e1\n\nli", "ne2\n\n", "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"}, false, false},
		{"body, then a bare block", []string{"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab", "cGET /c HTTP/1.1\nHost: a\n\n"}, true, false},
		{"Content-Length split over reads", []string{"POST /b HTTP/1.1\r\nHost: a\r\nConte", "nt-Len", "gth: 1", "0\r", "\n\r\n", "\n\n\n\n\n\n\n\n\n\n"}, false, false},
		{"chunked: off", []string{"POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\na\n\nb\n\r\n0\r\n\r\n"}, false, true},
		{"two Content-Lengths: off", []string{"POST /b HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"}, false, true},
		{"Content-Length not a number: off", []string{"POST /b HTTP/1.1\r\nContent-Length: +1\r\n\r\nx"}, false, true},
		{"obs-fold: off", []string{"GET /b HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{0, 1, 2, 3} { // 0: the reads as listed
				reads := tt.reads
				if size > 0 {
					reads = cut(strings.Join(tt.reads, ""), size)
				}
				var c guardConn
				for _, r := range reads {
					if !c.bare {
						c.scan([]byte(r))
					}
				}
				bare, off := guardModel(reads)
				if c.bare != bare || (c.state == guardOff) != off {
					t.Errorf("in reads of %d: guard and model disagree: bare, off: got %v, %v, model %v, %v",
						size, c.bare, c.state == guardOff, bare, off)
				}
				if size == 0 && (bare != tt.bare || off != tt.off) {
					t.Errorf("bare, off: got %v, %v, want %v, %v", bare, off, tt.bare, tt.off)
				}
			}
		})
	}
}

// cut cuts s into reads of size bytes.
func cut(s string, size int) []string {
	var out []string
	for len(s) > 0 {
		n := min(size, len(s))
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// guardModel is what guardConn must find, written over the whole stream for
// clarity rather than speed, from fasthttp's reading (header.go,
// headerscanner.go): whether the next read must fail, a header block having
// ended in a bare LF with no CRLFCRLF after it in the same read (bare), or
// the stream could not be framed (off).
func guardModel(reads []string) (bare, off bool) {
	stream := strings.Join(reads, "")
	// readEnd is where the read holding stream[i] ends.
	readEnd := func(i int) int {
		end := 0
		for _, r := range reads {
			if end += len(r); end > i {
				return end
			}
		}
		return len(stream)
	}
	for p := 0; ; {
		for p < len(stream) && (stream[p] == '\r' || stream[p] == '\n') {
			p++ // empty lines before the request line
		}
		lf := strings.IndexByte(stream[p:], '\n')
		if lf < 0 {
			return false, false
		}
		p += lf + 1 // the request line
		length, unframed, crlf := -1, false, false
		for first := true; ; first = false {
			lf := strings.IndexByte(stream[p:], '\n')
			if lf < 0 {
				return false, false
			}
			line := stream[p : p+lf]
			p += lf + 1
			if line == "" || line == "\r" {
				if line == "\r" && (first || crlf) || strings.Contains(stream[p:readEnd(p-1)], "\r\n\r\n") {
					break
				}
				return true, false
			}
			crlf = strings.HasSuffix(line, "\r")
			if line[0] == ' ' || line[0] == '\t' {
				return false, true
			}
			name, value, _ := strings.Cut(line, ":")
			switch strings.ToLower(name) {
			case "content-length":
				v := strings.Trim(value, " \t\r")
				n, err := strconv.ParseUint(v, 10, 63)
				if length >= 0 || err != nil || strings.ContainsAny(v, "+-") || len(v) > 18 || len(line) > 48 {
					unframed = true
				}
				length = int(n)
			case "transfer-encoding":
				unframed = true
			}
		}
		if unframed {
			return false, true
		}
		if length > 0 {
			p += length
		}
		if p >= len(stream) {
			return false, false
		}
	}
}

// TestBareLFPipelined: issue 9. Requests sent without waiting for the
// answers are framed as fasthttp frames them: a bare-LF one behind a good
// one is answered at once, and a body with bare blank lines that arrives
// over several reads, behind another request, is a body.
func TestBareLFPipelined(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Minute) }))
	body := "line1\n\nline2\n\n" + strings.Repeat("y", 100)
	tests := []struct {
		name  string
		reads []string // what the proxy reads, read by read
		sync  bool     // over TCP, the first read is answered before the rest is sent
		want  []string // the status lines answered, in order
	}{
		{
			name:  "bare request behind a good one, one read",
			reads: []string{"GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\nGET /b HTTP/1.1\nHost: shop.example\n\n"},
			want:  []string{"HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"},
		},
		{
			name: "body with bare blank lines over reads, behind a GET",
			sync: true,
			reads: []string{
				"GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\nPOST /b HTTP/1.1\r\nHost: shop.example\r\nContent-Type: text/plain\r\nContent-Length: " +
					strconv.Itoa(len(body)) + "\r\n",
				"\r\n" + body[:3], body[3:10], body[10:],
				"GET /c HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n",
			},
			want: []string{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"},
		},
		{
			name: "GET with a body, then a bare request",
			reads: []string{
				"GET /a HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 4\r\n\r\na\n\nb",
				"GET /c HTTP/1.1\nHost: shop.example\n\n",
			},
			want: []string{"HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"},
		},
		{
			name: "bare block taken for its CRLFCRLF behind it, then a bare one",
			reads: []string{
				"GET /a HTTP/1.1\nHost: shop.example\n\nGET /b HTTP/1.1\r\nHost: shop.example\r\n\r\nGET /c HTTP/1.1\nHost: shop.example\n\n",
			},
			want: []string{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"},
		},
		{
			name: "bare request behind a body",
			reads: []string{
				"POST /b HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n\r\nab\n\n",
				"\nGET /c HTTP/1.1\nHost: shop.example\n\n",
			},
			want: []string{"HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Over TCP: the first read as one write, the rest as another
			// (after the first answer, when that is sure to come).
			c := dialProxy(t, e.url)
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			br := bufio.NewReader(c)
			if _, err := io.WriteString(c, tt.reads[0]); err != nil {
				t.Fatal(err)
			}
			var got []string
			if tt.sync {
				got = statusLines(br, 1)
			}
			if _, err := io.WriteString(c, strings.Join(tt.reads[1:], "")); err != nil {
				t.Fatal(err)
			}
			got = append(got, statusLines(br, len(tt.want)-len(got))...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("over TCP, within 3s (read timeout 1m): got %q, want %q", got, tt.want)
			}
			// Read by read exactly, through the proxy's own server.
			if got := serveReads(t, e.proxy, tt.reads); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("read by read: got %q, want %q", got, tt.want)
			}
		})
	}
}

// serveReads serves one guarded connection whose reads return reads, one
// each, then time out, and returns the status lines answered.
func serveReads(t *testing.T, p *Proxy, reads []string) []string {
	t.Helper()
	c := &scriptedConn{reads: reads}
	_ = p.Server().ServeConn(&guardConn{Conn: c})
	return statusLines(bufio.NewReader(strings.NewReader(c.out.String())), -1)
}

// statusLines reads n responses (n < 0: all there are) and returns their
// status lines.
func statusLines(br *bufio.Reader, n int) []string {
	var got []string
	for ; n != 0; n-- {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, "HTTP/1.1 "+resp.Status)
	}
	return got
}

// scriptedConn is a connection whose reads return reads, one each (cut to
// the caller's buffer), then time out; what is written is kept.
type scriptedConn struct {
	reads []string
	out   strings.Builder
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (c *scriptedConn) Read(b []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, timeoutError{}
	}
	n := copy(b, c.reads[0])
	if c.reads[0] = c.reads[0][n:]; c.reads[0] == "" {
		c.reads = c.reads[1:]
	}
	return n, nil
}

func (c *scriptedConn) Write(b []byte) (int, error) { return c.out.Write(b) }
func (c *scriptedConn) Close() error                { return nil }
func (c *scriptedConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}
}
func (c *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// TestBareLFKeptAlive: a bare-LF request after a good one on the same
// connection is answered at once too.
func TestBareLFKeptAlive(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Minute) }))
	c := dialProxy(t, e.url)
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

// BenchmarkGuardConnScan is the guard's cost on a browser's request as
// one read.
func BenchmarkGuardConnScan(b *testing.B) {
	raw := []byte("GET /c/shoes HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"131\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Windows\"\r\nUpgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: " + browserUA + "\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
		"Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n" +
		"Referer: https://shop.example/c/shoes\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-GB,en;q=0.9\r\nCookie: se_vid=eyJhbGciOiJIUzI1NiIsImtpZCI6InQxIn0.eyJ2aWQiOiJhYmMifQ.sig; cart=1\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var c guardConn
		c.scan(raw)
		if c.bare || c.state != guardLead {
			b.Fatal("wrong verdict")
		}
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
// reaches guardModel's verdict, and scanHeaders never panics.
func FuzzGuardConnScan(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.0\n\r\n", "\n\r\n\nGET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\na\n\nb",
		"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\nHost: x\n\n",
		"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 7\r\n\r\nline\n\n\nGET /c HTTP/1.1\n\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		_ = scanHeaders(in)
		reads := cut(string(in), int(size%16)+1)
		var c guardConn
		for _, r := range reads {
			if !c.bare {
				c.scan([]byte(r))
			}
		}
		if bare, off := guardModel(reads); c.bare != bare || (c.state == guardOff) != off {
			t.Errorf("%q in reads of %d: bare, off: got %v, %v, model %v, %v", in, int(size%16)+1, c.bare, c.state == guardOff, bare, off)
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
