package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestIdleConnectionMemory (issue 9): a keep-alive connection that has
// been served a body keeps no buffer of its own once idle: not fasthttp's
// read and write buffers, and not a body buffer the size of the largest
// body it carried. Measured as the live heap per connection, with 200
// connections that each fetched a 200 KB body (read whole, then written)
// and a 600 KB one (streamed). Not parallel: it measures the heap.
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap of 200 connections")
	}
	bodies := map[string][]byte{
		"/small.bin": bytes.Repeat([]byte("s"), 200<<10),
		"/large.bin": bytes.Repeat([]byte("L"), 600<<10),
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = w.Write(b)
	}))
	defer up.Close()
	e := startProxy(t, demoConfig(t, up.URL, nil))
	addr := e.url[len("http://"):]

	const n = 200
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	fetch := func(c net.Conn, path string) {
		t.Helper()
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", path, addr, browserUA); err != nil {
			t.Fatal(err)
		}
		var resp fasthttp.Response
		if err := resp.Read(bufio.NewReader(c)); err != nil {
			t.Fatal(err)
		}
		if got, want := len(resp.Body()), len(bodies[path]); resp.StatusCode() != 200 || got != want {
			t.Fatalf("GET %s: status %d, %d bytes, want 200 and %d", path, resp.StatusCode(), got, want)
		}
	}
	// Warm the pools, then measure.
	warm, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fetch(warm, "/small.bin")
	fetch(warm, "/large.bin")
	warm.Close()
	before := heap()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		conns = append(conns, c)
		fetch(c, "/small.bin")
		fetch(c, "/large.bin")
	}
	per := (float64(heap()) - float64(before)) / n
	// About 1.6 KiB today; 4 KiB more (a wake buffer held while idle,
	// wakeReader) must not pass.
	const bound = 4 << 10
	if per > bound {
		t.Errorf("an idle keep-alive connection holds %.1f KiB of heap, want at most %d KiB", per/1024, bound>>10)
	}
	t.Logf("%.1f KiB of heap per idle connection", per/1024)
}
