package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"shopedge/rules"
)

// TestWakeReader: the one-byte wait takes what came in one read and serves
// it to the reads that follow; nothing is held once it is served, nor while
// the connection waits; a deadline, the peer's close and a large request
// come out as they would from the socket.
func TestWakeReader(t *testing.T) {
	if !canReadFD {
		t.Skip("no direct socket reads here")
	}
	client, server := tcpPair(t)
	w := newWakeReader(server)
	if w == nil {
		t.Fatal("no wakeReader for a TCP connection")
	}
	g := &guardConn{Conn: server, wake: w}
	read := func(n int) (string, error) {
		b := make([]byte, n)
		k, err := g.Read(b)
		return string(b[:k]), err
	}

	// A request that came whole: one byte, then the rest from the buffer.
	const req = "GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n"
	if _, err := io.WriteString(client, req); err != nil {
		t.Fatal(err)
	}
	if got, err := read(1); got != "G" || err != nil {
		t.Fatalf("first byte: %q, %v", got, err)
	}
	if !w.pending() {
		t.Fatal("the rest of the request was not taken with the first byte")
	}
	if got, err := read(4096); got != req[1:] || err != nil {
		t.Fatalf("rest: %q, %v; want %q", got, err, req[1:])
	}
	if w.pending() || w.buf != nil {
		t.Fatal("a buffer is held after everything was served")
	}

	// Nothing comes before the deadline: a timeout, and no buffer held.
	_ = server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := read(1)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || strings.Count(err.Error(), "tcp") != 1 {
		t.Fatalf("waiting past the deadline: %v, want one read's timeout", err)
	}
	if w.buf != nil {
		t.Fatal("a buffer is held by a connection that waited for nothing")
	}
	_ = server.SetReadDeadline(time.Time{})

	// A head longer than one wake's read: the rest comes from the socket.
	big := "GET /b HTTP/1.1\r\nCookie: c=" + strings.Repeat("x", 3*wakeSize) + "\r\n\r\n"
	go func() { _, _ = io.WriteString(client, big) }()
	var sb strings.Builder
	for sb.Len() < len(big) {
		n := 1 // the wait, then fasthttp's buffer
		if sb.Len() > 0 {
			n = 4096
		}
		got, err := read(n)
		if err != nil {
			t.Fatalf("after %d bytes: %v", sb.Len(), err)
		}
		sb.WriteString(got)
	}
	if sb.String() != big {
		t.Fatal("a long request head came out changed")
	}

	// The peer closes: end of file.
	client.Close()
	if got, err := read(1); err != io.EOF {
		t.Fatalf("after the peer closed: %q, %v; want EOF", got, err)
	}

	// Closed from another goroutine while it waits (a shutdown): the wait
	// ends, as a read's would.
	client2, server2 := tcpPair(t)
	defer client2.Close()
	g2 := &guardConn{Conn: server2, wake: newWakeReader(server2)}
	time.AfterFunc(50*time.Millisecond, func() { server2.Close() })
	if _, err := g2.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed while waiting: %v, want net.ErrClosed", err)
	}
}

// TestWakeReaderServed: through the proxy on loopback, a request head
// longer than one wake's read, one sent a byte at a time and requests sent
// back to back on a kept-alive connection all reach the shop whole and are
// answered; an idle connection is closed at the idle timeout.
func TestWakeReaderServed(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) {
		c.Server.IdleTimeout = rules.Duration(300 * time.Millisecond)
	}))
	c := dialProxy(t, e.url)
	br := bufio.NewReader(c)
	answer := func() string {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.Proto + " " + resp.Status
	}

	cookie := strings.Repeat("v", 2*wakeSize)
	if _, err := io.WriteString(c, "GET /long HTTP/1.1\r\nHost: shop.example\r\nCookie: big="+cookie+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := answer(); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("long head: %q", got)
	}
	if got := shop.last(t); !strings.Contains(got, "big="+cookie+"\r\n") {
		t.Fatalf("the shop did not get the whole cookie: %d bytes of head", len(got))
	}

	slow := "GET /slow HTTP/1.1\r\nHost: shop.example\r\n\r\n"
	for i := range len(slow) {
		if _, err := io.WriteString(c, slow[i:i+1]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if got := answer(); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("a byte at a time: %q", got)
	}

	if _, err := io.WriteString(c, "GET /one HTTP/1.1\r\nHost: shop.example\r\n\r\nGET /two HTTP/1.1\r\nHost: shop.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := answer(); !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("back to back: %q", got)
		}
	}
	reqs := shop.requests()
	if n := len(reqs); n < 4 || !strings.HasPrefix(reqs[n-2], "GET /one ") || !strings.HasPrefix(reqs[n-1], "GET /two ") {
		t.Fatalf("the shop got %d requests, the last two not /one and /two", n)
	}

	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.ReadByte(); err == nil {
		t.Fatalf("an idle connection sent %q", n)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("idle connection closed after %v, idle timeout 300ms", d)
	}
}
