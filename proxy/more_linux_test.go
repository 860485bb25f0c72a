package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shopedge/bench/shop"
)

// dataSegments is how many segments carrying data c has sent.
func dataSegments(t *testing.T, c net.Conn) uint32 {
	t.Helper()
	return tcpInfo(t, c).Data_segs_out
}

// notSent is how many bytes written to c the kernel holds unsent.
func notSent(t *testing.T, c net.Conn) uint32 {
	t.Helper()
	return tcpInfo(t, c).Notsent_bytes
}

func tcpInfo(t *testing.T, c net.Conn) *unix.TCPInfo {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var serr error
	if err := raw.Control(func(fd uintptr) { info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return info
}

// readAll reads n bytes from c, failing the test if they do not all come
// within the deadline: bytes left queued by a write marked "more follows"
// would never come.
func readAll(c net.Conn, n int) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

// readBehind reads n bytes from c in the background (readAll): what came
// arrives on the channel once all of it did, or the deadline passed.
func readBehind(c net.Conn, n int) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		r, _ := readAll(c, n)
		got <- r
	}()
	return got
}

// bodyPieces returns pieces of a body as splicedBody has them: the shop's bytes
// and the visitor's, of the given sizes.
func bodyPieces(sizes ...int) (pieces [][]byte, whole []byte) {
	for i, n := range sizes {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		pieces = append(pieces, p)
		whole = append(whole, p...)
	}
	return pieces, whole
}

// warm sends a few megabytes from server to client, as a keep-alive
// connection that has served pages has: until the client's window has
// grown, the kernel sends a fresh connection's data in segments of at
// most half its window (32 KiB on loopback), held or not. It waits for the
// client's acknowledgements of all of it (one arriving while a test holds
// data would send what is held), and skips the test on a kernel that does
// not count segments or whose loopback segments are too small to carry a
// page at once.
func warm(t *testing.T, client, server net.Conn) {
	t.Helper()
	before := tcpInfo(t, server)
	done := make(chan error, 1)
	go func() {
		_, err := readAll(client, 4<<20)
		done <- err
	}()
	if _, err := server.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	info := tcpInfo(t, server)
	if info.Data_segs_out == before.Data_segs_out {
		t.Skip("this kernel does not count data segments (TCP_INFO)")
	}
	if info.Snd_mss < 40<<10 {
		t.Skipf("loopback segments of %d bytes: a page does not fit in one", info.Snd_mss)
	}
	for deadline := time.Now().Add(5 * time.Second); info.Unacked > 0; info = tcpInfo(t, server) {
		if time.Now().After(deadline) {
			t.Fatalf("%d segments still unacknowledged", info.Unacked)
		}
		time.Sleep(time.Millisecond) // a poll for the condition, bounded
	}
}

// TestSplicedBodyOneSegment: a personalized page larger than the server's
// write buffer leaves in one segment when its connection can be held, in
// two (the full buffer, then the rest) when not; the bytes are the same.
// So does a body held whole in one buffer (pooledBody).
func TestSplicedBodyOneSegment(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 36000\r\n\r\n"
	for _, tc := range []struct {
		name         string
		sizes        []int
		held, pooled bool
		want         uint32
	}{
		{"held", []int{20000, 3000, 12000, 1000}, true, false, 1},
		{"not held", []int{20000, 3000, 12000, 1000}, false, false, 2},
		{"pooled, held", []int{20000, 3000, 12000, 1000}, true, true, 1},
		{"pooled, not held", []int{20000, 3000, 12000, 1000}, false, true, 2},
		// The end just past the buffer: held all but the last byte, the
		// buffer fills and goes held; a longer unheld tail would not fit
		// in what is left and go out alone.
		{"end just past the buffer", []int{20000, 12913}, true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			g := &guardConn{Conn: server, more: newMoreWriter(server)}
			if g.more == nil {
				t.Fatal("no moreWriter for a TCP connection on Linux")
			}
			warm(t, client, server)
			pieces, whole := bodyPieces(tc.sizes...)
			var body io.WriterTo
			var conn *guardConn
			if tc.held {
				conn = g
			}
			if tc.pooled {
				buf := append([]byte(nil), whole...)
				pb := newPooledBody(&buf)
				pb.conn = conn
				body = pb
			} else {
				body = &splicedBody{pieces: pieces, conn: conn}
			}
			want := append([]byte(head), whole...)
			got := readBehind(client, len(want))
			before := dataSegments(t, server)
			w := bufio.NewWriterSize(g, 32<<10) // the server's write buffer
			_, _ = w.WriteString(head)
			if n, err := body.WriteTo(w); err != nil || n != int64(len(whole)) {
				t.Fatalf("WriteTo: %d, %v; want %d", n, err, len(whole))
			}
			if g.holding {
				t.Fatal("the connection is still held once the body is handed over")
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if r := <-got; !bytes.Equal(r, want) {
				t.Fatalf("the client got %d bytes, not the %d sent", len(r), len(want))
			}
			if n := dataSegments(t, server) - before; n != tc.want {
				t.Errorf("%d data segments, want %d", n, tc.want)
			}
		})
	}
}

// TestSplicedBodyNothingQueued: whatever the pieces and however the
// server's buffer cuts them, the body's last bytes go out unheld: once the
// server has flushed, the kernel holds nothing back (held bytes would wait
// there for a later write, or some 200 ms), and the client has it all.
func TestSplicedBodyNothingQueued(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sizes  []int
		buffer int
	}{
		{"small buffer, large last piece", []int{1000, 40000}, 4 << 10},
		{"last piece shorter than the tail", []int{30000, 100, 50}, 32 << 10},
		{"one piece", []int{50000}, 32 << 10},
		{"body shorter than the tail", []int{100}, 32 << 10},
		{"empty pieces", []int{0, 33000, 0, 2000, 0}, 32 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			warm(t, client, server) // segments up to 64 KiB: nothing but the end pushes
			g := &guardConn{Conn: server, more: newMoreWriter(server)}
			pieces, whole := bodyPieces(tc.sizes...)
			got := readBehind(client, len(whole))
			w := bufio.NewWriterSize(g, tc.buffer)
			if _, err := (&splicedBody{pieces: pieces, conn: g}).WriteTo(w); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if n := notSent(t, server); n != 0 {
				t.Errorf("%d bytes of the body held unsent after the last flush", n)
			}
			if r := <-got; !bytes.Equal(r, whole) {
				t.Fatalf("the client got %d bytes of %d", len(r), len(whole))
			}
		})
	}
}

// TestMoreWriter: a held write larger than the socket takes waits for the
// client to read and delivers every byte in order; a deadline and a
// closed peer come out as a write's errors, and leave the connection
// unheld.
func TestMoreWriter(t *testing.T) {
	client, server := tcpPair(t)
	g := &guardConn{Conn: server, more: newMoreWriter(server)}
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	got := readBehind(client, len(big)+1)
	g.hold(true)
	if n, err := g.Write(big); n != len(big) || err != nil {
		t.Fatalf("held write: %d, %v", n, err)
	}
	g.hold(false)
	if _, err := g.Write([]byte{'!'}); err != nil {
		t.Fatal(err)
	}
	if r := <-got; !bytes.Equal(r, append(big, '!')) {
		t.Fatal("the client did not get the bytes written, in order")
	}

	_ = server.SetWriteDeadline(time.Now().Add(-time.Second))
	g.hold(true)
	_, err := g.Write([]byte("late"))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.HasPrefix(err.Error(), "write tcp") {
		t.Fatalf("a held write past its deadline: %v, want a write's timeout", err)
	}
	g.hold(false)
	_ = server.SetWriteDeadline(time.Time{})

	client.Close()
	// The client's reset reaches the socket at once on loopback, or soon
	// after under load: write until it does; a failed write leaves the
	// connection unheld.
	pieces, _ := bodyPieces(50000) // held but for its last byte
	var werr error
	for deadline := time.Now().Add(5 * time.Second); werr == nil && time.Now().Before(deadline); {
		w := bufio.NewWriterSize(g, 32<<10)
		if _, werr = (&splicedBody{pieces: slices.Clone(pieces), conn: g}).WriteTo(w); werr == nil {
			werr = w.Flush()
		}
	}
	if werr == nil {
		t.Fatal("writes to a closed peer: no error in 5 s")
	}
	if g.holding {
		t.Fatal("the connection is still held after a failed write")
	}
}

// TestPersonalizedPageOneSegment: through the proxy's own server, a
// returning visitor's personalized home page (menu, blocks, banners,
// overlay: 37 KB or so), larger than the server's 32 KiB write buffer,
// reaches the visitor in one segment on a connection that has carried
// pages before.
func TestPersonalizedPageOneSegment(t *testing.T) {
	t.Parallel()
	s := shop.New(1)
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, nil))
	e.shop = s
	ps := e.inStock("shoes", 6)
	c := dialProxy(t, e.url)
	br := bufio.NewReaderSize(c, 256<<10)
	cookie := ""
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req := "GET " + path + " HTTP/1.1\r\nHost: shop.example\r\nAccept: text/html\r\nUser-Agent: " + browserUA + "\r\n"
		if cookie != "" {
			req += "Cookie: " + cookie + "\r\n"
		}
		if _, err := io.WriteString(c, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, ck := range resp.Cookies() {
			cookie = ck.Name + "=" + ck.Value
		}
		return resp, body
	}
	for _, p := range ps[1:] { // a visit: the engine and the profile learn
		get(p.URL())
	}
	get("/")
	before := tcpInfo(t, c).Data_segs_in
	resp, body := get("/")
	segs := tcpInfo(t, c).Data_segs_in - before
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "private") {
		t.Fatalf("%s, Cache-Control %q: not a personalized page", resp.Status, resp.Header.Get("Cache-Control"))
	}
	if len(body) <= 32<<10 {
		t.Fatalf("the page is %d bytes: it fits in the write buffer, and proves nothing", len(body))
	}
	if segs != 1 {
		t.Errorf("a page of %d bytes came in %d segments, want 1", len(body), segs)
	}
}

// holdRecorder passes writes to a guardConn, noting for each whether the
// connection was held.
type holdRecorder struct {
	g    *guardConn
	held []bool
}

func (r *holdRecorder) Write(p []byte) (int, error) {
	r.held = append(r.held, r.g.holding)
	return r.g.Write(p)
}

// TestWriteHeldBounds: a body of a segment train or less is written held
// but for its last byte; a larger one is not held at all (held, it cost
// more: maxHeld).
func TestWriteHeldBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int
		want  []bool // held, write by write
	}{
		{"within a segment train", []int{20000, 20000}, []bool{true, true, false}},
		{"larger", []int{maxHeld, 1000}, []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			g := &guardConn{Conn: server, more: newMoreWriter(server)}
			pieces, whole := bodyPieces(tc.sizes...)
			got := readBehind(client, len(whole))
			rec := &holdRecorder{g: g}
			if n, k, err := writeHeld(rec, g, pieces); err != nil || n != int64(len(whole)) || k != len(pieces) {
				t.Fatalf("writeHeld: %d bytes, %d pieces, %v", n, k, err)
			}
			if !slices.Equal(rec.held, tc.want) {
				t.Errorf("held by write: %v, want %v", rec.held, tc.want)
			}
			if r := <-got; !bytes.Equal(r, whole) {
				t.Fatalf("the client got %d bytes of %d", len(r), len(whole))
			}
		})
	}
}
