package proxytest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// Server is what the harness needs of a proxy: shopedge's *proxy.Proxy
// has both methods. Taking the proxy through this interface keeps the
// harness free of package proxy, whose own tests use it.
type Server interface {
	// Server returns the fasthttp server to serve the proxy with.
	Server() *fasthttp.Server
	// Serve serves srv on ln until srv shuts down.
	Serve(srv *fasthttp.Server, ln net.Listener) error
}

// closer is a Server that holds resources beyond its fasthttp server
// (*proxy.Proxy: its profile store and page cache).
type closer interface{ Close() }

// Served is a Server serving for one test, shut down when the test ends
// (and closed, if it has a Close method).
type Served struct {
	// URL is the proxy's base URL: http://127.0.0.1:port on loopback,
	// http://inmemory on fasthttp's in-memory listener.
	URL string

	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Serve serves s on a fresh listener on 127.0.0.1.
func Serve(t testing.TB, s Server) *Served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: listen: %v", err)
	}
	serve(t, s, ln)
	return &Served{URL: "http://" + ln.Addr().String(), dial: (&net.Dialer{}).DialContext}
}

// ServeInMemory serves s on fasthttp's in-memory listener: no socket.
// Only clients from the returned Served (Transport, Visitor) reach it.
func ServeInMemory(t testing.TB, s Server) *Served {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	serve(t, s, ln)
	// The proxy sees its visitors come from loopback, as on a socket.
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	return &Served{URL: "http://inmemory", dial: func(context.Context, string, string) (net.Conn, error) {
		return ln.DialWithLocalAddr(peer)
	}}
}

// serve runs s on ln until the test ends; then it shuts the server down,
// waits for Serve to return and fails the test if Serve failed.
func serve(t testing.TB, s Server, ln net.Listener) {
	srv := s.Server()
	done := make(chan error, 1)
	go func() {
		err := s.Serve(srv, ln)
		if err != nil {
			ln.Close() // nobody will accept: let clients fail, not hang
		}
		done <- err
	}()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("proxytest: shut the proxy down: %v", err)
		}
		// Shutdown closes only the listeners Serve has seen; a Serve
		// not yet started finds this one closed and returns at once.
		_ = ln.Close()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("proxytest: serve: %v", err)
		}
		if c, ok := s.(closer); ok {
			c.Close()
		}
	})
}

// Transport returns an HTTP transport to the served proxy (on the
// in-memory listener, whatever the URL's host) that asks for no
// compression of its own, so bodies arrive as the proxy sent them, and
// keeps a few idle connections.
func (s *Served) Transport() *http.Transport {
	return &http.Transport{
		DialContext:         s.dial,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
	}
}

// Visitor returns a new browser visiting the served proxy: see NewVisitor.
func (s *Served) Visitor(t testing.TB) *Visitor {
	return newVisitor(t, s.URL, s.Transport())
}
