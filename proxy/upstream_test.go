package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/rules"
)

// fakeShop is an upstream on a raw listener, so that a test decides
// exactly what it answers and when it closes a connection, and counts the
// requests that reached it.
type fakeShop struct {
	ln  net.Listener
	url string
	// keepAlive is how long the shop keeps a connection open, idle, after
	// an answer (Apache's and Node.js's KeepAliveTimeout: 5s).
	keepAlive time.Duration
	// answer is what the shop writes for a request; "" closes the
	// connection without a byte. close: close after writing.
	answer func(req *http.Request) (reply string, close bool)

	mu       sync.Mutex
	accepted int            // connections accepted
	got      map[string]int // "METHOD /path" -> requests received
	conns    map[net.Conn]bool
	// closed receives, for each connection that ends, who ended it: "shop"
	// (its keep-alive ran out, or answer said so) or "proxy".
	closed chan string
}

func newFakeShop(t *testing.T, keepAlive time.Duration, useTLS bool, answer func(*http.Request) (string, bool)) *fakeShop {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeShop{
		keepAlive: keepAlive, answer: answer,
		got: map[string]int{}, conns: map[net.Conn]bool{}, closed: make(chan string, 100),
		url: "http://" + ln.Addr().String(),
	}
	if answer == nil {
		s.answer = func(*http.Request) (string, bool) { return "", false }
	}
	if useTLS {
		ln = tls.NewListener(ln, testServerTLS(t))
		s.url = "https://" + ln.Addr().String()
	}
	s.ln = ln
	t.Cleanup(func() { ln.Close(); s.closeAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.accepted++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

// ok is the shop's answer to every request: 200, naming the request.
func ok(req *http.Request) (string, bool) {
	body := "shop: " + req.Method + " " + req.URL.Path
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body), false
}

func (s *fakeShop) serve(c net.Conn) {
	br := bufio.NewReader(c)
	who := "shop"
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		s.closed <- who
	}()
	for first := true; ; first = false {
		wait := s.keepAlive
		if first {
			wait = 10 * time.Second
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		req, err := http.ReadRequest(br)
		if err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				who = "proxy"
			}
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		s.mu.Lock()
		s.got[req.Method+" "+req.URL.Path]++
		s.mu.Unlock()
		reply, closeAfter := s.answer(req)
		if reply == "" {
			return
		}
		if _, err := io.WriteString(c, reply); err != nil || closeAfter {
			return
		}
	}
}

// count is how many times the request reached the shop.
func (s *fakeShop) count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[method+" "+path]
}

// closeAll closes every open connection, as a restarting shop does.
func (s *fakeShop) closeAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
	return len(s.conns)
}

// waitClosed waits until n connections have ended, and says who ended the
// last.
func (s *fakeShop) waitClosed(t *testing.T, n int) (who string) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for range n {
		select {
		case who = <-s.closed:
		case <-timeout:
			t.Fatal("the shop's connection was never closed")
		}
	}
	return who
}

// testServerTLS is a self-signed certificate for 127.0.0.1.
func testServerTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// send makes one visitor request through the proxy, on a connection of
// its own, and returns the status and body.
func send(t *testing.T, proxyURL, method, path string) (int, string) {
	t.Helper()
	var body io.Reader
	if method != "GET" && method != "HEAD" {
		body = strings.NewReader("sku=1&qty=2")
	}
	req, err := http.NewRequest(method, proxyURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// clockScale divides every duration of TestIdleClosedConnection: the
// outcome depends only on which side closes an idle connection first and
// on whether the request is sent after that, which dividing every clock by
// the same factor keeps; the 75s case then takes a tenth of our idle
// time, not 75s.
const clockScale = 10

// defaultIdle is upstream.max_idle_conn_duration when a config leaves it
// out.
func defaultIdle(t *testing.T) time.Duration {
	t.Helper()
	cfg, err := rules.Parse("defaults.yaml", []byte("upstream:\n  url: http://127.0.0.1:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Upstream.MaxIdleConnDuration.D()
}

// TestIdleClosedConnection: a request sent after the shop closed the
// pooled connection it would go on, as it does when its keep-alive is
// shorter than our idle time, reaches the shop exactly once and the
// visitor gets the shop's answer (issue 9). Today the POST reached the shop
// zero times and the visitor got 502 with the shop's keep-alive at 1s or 5s
// under the default idle time of 10s.
func TestIdleClosedConnection(t *testing.T) {
	t.Parallel()
	def := defaultIdle(t)
	tests := []struct {
		name      string
		method    string
		keepAlive time.Duration // the shop's keep-alive, in real time
		idle      time.Duration // upstream.max_idle_conn_duration, in real time; 0: the default
		tls       bool
	}{
		{name: "POST, default idle, shop keep-alive 1s", method: "POST", keepAlive: time.Second},
		{name: "POST, default idle, shop keep-alive 5s (Apache, Node.js)", method: "POST", keepAlive: 5 * time.Second},
		{name: "POST, default idle, shop keep-alive 75s (nginx)", method: "POST", keepAlive: 75 * time.Second},
		{name: "POST over TLS, default idle, shop keep-alive 1s", method: "POST", keepAlive: time.Second, tls: true},
		{name: "POST, idle 10s, shop keep-alive 5s", method: "POST", keepAlive: 5 * time.Second, idle: 10 * time.Second},
		{name: "PUT, idle 10s, shop keep-alive 5s", method: "PUT", keepAlive: 5 * time.Second, idle: 10 * time.Second},
		{name: "PATCH, idle 10s, shop keep-alive 5s", method: "PATCH", keepAlive: 5 * time.Second, idle: 10 * time.Second},
		{name: "DELETE, idle 10s, shop keep-alive 5s", method: "DELETE", keepAlive: 5 * time.Second, idle: 10 * time.Second},
		{name: "GET, idle 10s, shop keep-alive 5s", method: "GET", keepAlive: 5 * time.Second, idle: 10 * time.Second},
		{name: "POST over TLS, idle 10s, shop keep-alive 5s", method: "POST", keepAlive: 5 * time.Second, idle: 10 * time.Second, tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			idle := tt.idle
			if idle == 0 {
				idle = def
			}
			shop := newFakeShop(t, tt.keepAlive/clockScale, tt.tls, ok)
			e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
				c.Upstream.MaxIdleConnDuration = rules.Duration(idle / clockScale)
				c.Upstream.InsecureSkipVerify = true
			}))
			if status, _ := send(t, e.url, "GET", "/warm"); status != 200 {
				t.Fatalf("first request: got %d, want 200", status)
			}
			// Whoever closes the idle connection first, the shop (its
			// keep-alive is shorter) or the proxy (its idle time is).
			t.Logf("the %s closed the idle connection", shop.waitClosed(t, 1))

			status, body := send(t, e.url, tt.method, "/checkout")
			if n := shop.count(tt.method, "/checkout"); n != 1 {
				t.Errorf("the shop got the %s %d times, want 1", tt.method, n)
			}
			if want := "shop: " + tt.method + " /checkout"; status != 200 || body != want {
				t.Errorf("got %d %q, want 200 %q", status, body, want)
			}
			if tt.idle > tt.keepAlive {
				// The shop surely closed first: the check found it, and
				// the request went on a fresh connection, counted.
				if n := e.proxy.metrics.resent[attemptNotSent].Load(); n != 1 {
					t.Errorf("shopedge_upstream_resent_total{reason=\"not_sent\"} = %d, want 1", n)
				}
			}
		})
	}
}

// TestPooledConnectionReused: a connection the shop keeps open carries the
// next requests (the check before each one does not refuse it), over TLS
// too.
func TestPooledConnectionReused(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			t.Parallel()
			shop := newFakeShop(t, time.Minute, useTLS, ok)
			e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
				c.Upstream.MaxIdleConnDuration = rules.Duration(time.Minute)
				c.Upstream.InsecureSkipVerify = true
			}))
			for _, method := range []string{"GET", "POST", "GET", "PUT"} {
				if status, body := send(t, e.url, method, "/p"); status != 200 || body != "shop: "+method+" /p" {
					t.Fatalf("%s: got %d %q, want 200", method, status, body)
				}
			}
			shop.mu.Lock()
			defer shop.mu.Unlock()
			if shop.accepted != 1 {
				t.Errorf("the shop accepted %d connections, want 1", shop.accepted)
			}
		})
	}
}

// TestShopRestarted: when the shop closes every pooled connection at once
// (a restart, a deploy), a POST goes through the dead ones without a byte
// sent and reaches the shop once on a fresh connection (issue 9).
func TestShopRestarted(t *testing.T) {
	t.Parallel()
	const pooled = 3
	arrived, release := make(chan struct{}), make(chan struct{})
	shop := newFakeShop(t, time.Minute, false, func(req *http.Request) (string, bool) {
		if req.URL.Path == "/hold" {
			arrived <- struct{}{}
			<-release
		}
		return ok(req)
	})
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
		c.Upstream.MaxIdleConnDuration = rules.Duration(time.Minute)
	}))
	// Three requests at once leave three connections in the pool.
	var wg sync.WaitGroup
	for range pooled {
		wg.Go(func() {
			if status, _ := send(t, e.url, "GET", "/hold"); status != 200 {
				t.Errorf("warming request: got %d, want 200", status)
			}
		})
	}
	for range pooled {
		<-arrived
	}
	close(release)
	wg.Wait()
	if n := shop.closeAll(); n != pooled {
		t.Fatalf("the shop had %d connections, want %d", n, pooled)
	}
	shop.waitClosed(t, pooled)

	status, body := send(t, e.url, "POST", "/checkout")
	if n := shop.count("POST", "/checkout"); n != 1 {
		t.Errorf("the shop got the POST %d times, want 1", n)
	}
	if want := "shop: POST /checkout"; status != 200 || body != want {
		t.Errorf("got %d %q, want 200 %q", status, body, want)
	}
}

// TestUpstreamRetries: a request is sent again only when that is safe: a
// GET only if no byte of an answer arrived on a reused connection, never
// one that failed on a fresh connection (the shop may have acted on it),
// never a POST the shop read (issue 9).
func TestUpstreamRetries(t *testing.T) {
	t.Parallel()
	const partial, hang = "HTTP/1.1 2", "hang"
	tests := []struct {
		name   string
		method string
		reused bool   // sent on a pooled connection (after a first request)
		first  string // the shop's first answer to it: "" reads it and closes
		// what the visitor gets, and how many times the shop got it
		wantStatus int
		wantCount  int
	}{
		{name: "GET, partial status line, fresh connection", method: "GET", first: partial, wantStatus: 502, wantCount: 1},
		{name: "GET, partial status line, reused connection", method: "GET", reused: true, first: partial, wantStatus: 502, wantCount: 1},
		{name: "GET, closed after reading, fresh connection", method: "GET", wantStatus: 502, wantCount: 1},
		{name: "HEAD, closed after reading, fresh connection", method: "HEAD", wantStatus: 502, wantCount: 1},
		// The shop may have closed it as the request went: sent again once.
		{name: "GET, closed after reading, reused connection", method: "GET", reused: true, wantStatus: 200, wantCount: 2},
		{name: "POST, closed after reading, fresh connection", method: "POST", wantStatus: 502, wantCount: 1},
		{name: "POST, closed after reading, reused connection", method: "POST", reused: true, wantStatus: 502, wantCount: 1},
		{name: "POST, partial status line, reused connection", method: "POST", reused: true, first: partial, wantStatus: 502, wantCount: 1},
		// A timed-out request is never sent again.
		{name: "GET, no answer in time, reused connection", method: "GET", reused: true, first: hang, wantStatus: 504, wantCount: 1},
		{name: "POST, no answer in time, reused connection", method: "POST", reused: true, first: hang, wantStatus: 504, wantCount: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			answered := false
			done := make(chan struct{})
			shop := newFakeShop(t, time.Minute, false, func(req *http.Request) (string, bool) {
				mu.Lock()
				first := req.URL.Path == "/x" && !answered
				answered = answered || first
				mu.Unlock()
				switch {
				case first && tt.first == hang:
					<-done
					return "", true
				case first:
					return tt.first, true
				}
				return ok(req)
			})
			t.Cleanup(func() { close(done) })
			e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
				if tt.first == hang {
					c.Upstream.Timeout = rules.Duration(300 * time.Millisecond)
				}
			}))
			if tt.reused {
				if status, _ := send(t, e.url, "GET", "/warm"); status != 200 {
					t.Fatalf("first request: got %d, want 200", status)
				}
			}
			status, _ := send(t, e.url, tt.method, "/x")
			if status != tt.wantStatus {
				t.Errorf("got %d, want %d", status, tt.wantStatus)
			}
			if n := shop.count(tt.method, "/x"); n != tt.wantCount {
				t.Errorf("the shop got the %s %d times, want %d", tt.method, n, tt.wantCount)
			}
		})
	}
}

// TestGETResentOnce: a GET is sent again at most once, even when every
// pooled connection dies under it unanswered.
func TestGETResentOnce(t *testing.T) {
	t.Parallel()
	const pooled = 3
	arrived, release := make(chan struct{}), make(chan struct{})
	shop := newFakeShop(t, time.Minute, false, func(req *http.Request) (string, bool) {
		switch req.URL.Path {
		case "/hold":
			arrived <- struct{}{}
			<-release
		case "/x":
			return "", true // read, closed, never answered
		}
		return ok(req)
	})
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
		c.Upstream.MaxIdleConnDuration = rules.Duration(time.Minute)
	}))
	var wg sync.WaitGroup
	for range pooled {
		wg.Go(func() { send(t, e.url, "GET", "/hold") })
	}
	for range pooled {
		<-arrived
	}
	close(release)
	wg.Wait()

	if status, _ := send(t, e.url, "GET", "/x"); status != 502 {
		t.Errorf("got %d, want 502", status)
	}
	if n := shop.count("GET", "/x"); n != 2 {
		t.Errorf("the shop got the GET %d times, want 2", n)
	}
}

// BenchmarkUpstream is a pass-through request to a shop on a loopback TCP
// port, on a pooled connection: the cost of the exchange with the shop,
// the check that the shop has not closed the connection included.
func BenchmarkUpstream(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Repeat("x", 1024))
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(body)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Shutdown() })
	e := startProxy(b, demoConfig(b, "http://"+ln.Addr().String(), nil))
	var req fasthttp.Request
	req.SetRequestURI("/static/app.bin")
	req.Header.SetHost("shop.example")
	var ctx fasthttp.RequestCtx
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	for b.Loop() {
		ctx.Init(&req, addr, nil)
		e.proxy.Handler(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
		drain(&ctx)
	}
}

// tcpPair is both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestShopClosed: the check before a request goes on a pooled connection
// sees a connection the shop closed or sent bytes on unasked, and leaves an
// open, quiet one alone, without taking a byte.
func TestShopClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		shop func(net.Conn)
		want bool
	}{
		{name: "open and quiet", shop: func(net.Conn) {}, want: false},
		{name: "closed", shop: func(c net.Conn) { c.Close() }, want: true},
		{name: "reset", shop: func(c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() }, want: true},
		{name: "bytes nobody asked for", shop: func(c net.Conn) { io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\n\r\n") }, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, server := tcpPair(t)
			tt.shop(server)
			c := newTrackedConn(client)
			if tt.want {
				// Wait until what the shop did has arrived (loopback: at
				// once, but not necessarily before the next line).
				deadline := time.Now().Add(5 * time.Second)
				for !c.shopClosed() && time.Now().Before(deadline) {
					runtime.Gosched()
				}
			}
			if got := c.shopClosed(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkShopClosed is the check made before each request on a pooled
// connection: one non-blocking recv(MSG_PEEK).
func BenchmarkShopClosed(b *testing.B) {
	client, _ := tcpPair(b)
	c := newTrackedConn(client)
	b.ReportAllocs()
	for b.Loop() {
		if c.shopClosed() {
			b.Fatal("an open connection was found closed")
		}
	}
}

// TestShopUnaskedBytes: bytes a shop sends after an answer, unasked (a
// second answer, a HEAD's body), are never taken for the next request's
// answer: the connection they came on carries nothing more, and the next
// request goes on a fresh one, however soon after it is sent. (A check
// skipped on connections that had just answered let a GET read such
// bytes as its own, another visitor's page among them: da90c3d, reverted.)
func TestShopUnaskedBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, first, extra string
	}{
		{"a second answer", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nSTALE"},
		{"a HEAD's body", "HEAD", "STALE-BODY!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := rawShopFunc(t, func(c net.Conn) {
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body := "shop: " + req.URL.Path
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(body))
					if req.Method != "HEAD" {
						_, _ = io.WriteString(c, body)
					}
					if req.URL.Path == "/first" {
						time.Sleep(30 * time.Millisecond)
						_, _ = io.WriteString(c, tt.extra)
					}
				}
			})
			e := startProxy(t, demoConfig(t, shop, nil))
			if status, _ := send(t, e.url, tt.first, "/first"); status != 200 {
				t.Fatalf("first request: %d", status)
			}
			time.Sleep(60 * time.Millisecond) // the unasked bytes are in
			if status, body := send(t, e.url, "GET", "/second"); status != 200 || body != "shop: /second" {
				t.Errorf("the next GET got %d %q, want 200 \"shop: /second\"", status, body)
			}
		})
	}
}
