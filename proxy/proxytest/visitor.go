package proxytest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// BrowserUA is a desktop Chrome's User-Agent: what a Visitor sends unless
// told otherwise.
const BrowserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// acceptHTML is the Accept header of a browser loading a page.
const acceptHTML = "text/html,application/xhtml+xml,*/*;q=0.8"

// Visitor is a browser as far as the proxy can tell: a cookie jar, a
// browser's User-Agent and Accept, no automatic decompression and no
// redirects followed. Its methods fail the test on a transport error.
type Visitor struct {
	t testing.TB
	// Base is prefixed to a URL given to Get or Post that starts with "/".
	Base string
	// Client sends the requests; its Jar holds the visitor's cookies.
	Client *http.Client
	// UA is the User-Agent sent when a request has none. Default:
	// BrowserUA.
	UA string
	// Header are extra request headers, set on every request (over the
	// request's own).
	Header http.Header
}

// NewVisitor returns a new browser, with an empty jar, visiting base (a
// base URL such as a running shopedge's).
func NewVisitor(t testing.TB, base string) *Visitor {
	return newVisitor(t, base, &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4})
}

func newVisitor(t testing.TB, base string, tr http.RoundTripper) *Visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("proxytest: cookie jar: %v", err)
	}
	return &Visitor{
		t:    t,
		Base: base,
		Client: &http.Client{
			Jar:           jar,
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		UA:     BrowserUA,
		Header: http.Header{},
	}
}

// Page is a response as a browser sees it.
type Page struct {
	// Status is the response's status code.
	Status int
	// Header is the response's header.
	Header http.Header
	// Raw is the body as it came over the wire.
	Raw []byte
	// Body is the body decoded from its Content-Encoding.
	Body string
	// Resp is the response, its body read and closed.
	Resp *http.Response
}

// Cookie returns the cookie the response set by name, or nil.
func (p Page) Cookie(name string) *http.Cookie {
	for _, c := range p.Resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Do sends req as the visitor: with its cookies, a browser's User-Agent
// and Accept unless req has its own, and the visitor's extra headers.
func (v *Visitor) Do(req *http.Request) Page {
	v.t.Helper()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", v.UA)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", acceptHTML)
	}
	for k, vs := range v.Header {
		req.Header[k] = vs
	}
	resp, err := v.Client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	body, err := Decode(resp.Header.Get("Content-Encoding"), raw)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return Page{Status: resp.StatusCode, Header: resp.Header, Raw: raw, Body: string(body), Resp: resp}
}

// Get loads a page.
func (v *Visitor) Get(url string) Page {
	v.t.Helper()
	return v.Do(v.request("GET", url, "", nil))
}

// Post sends body with its Content-Type, as a form or a script would.
func (v *Visitor) Post(url, contentType, body string) Page {
	v.t.Helper()
	return v.Do(v.request("POST", url, contentType, strings.NewReader(body)))
}

func (v *Visitor) request(method, u, contentType string, body io.Reader) *http.Request {
	v.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = v.Base + u
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		v.t.Fatalf("proxytest: %s %s: %v", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// Cookie returns the value of the visitor's cookie name for Base, and
// whether the jar holds one.
func (v *Visitor) Cookie(name string) (string, bool) {
	u, err := url.Parse(v.Base)
	if err != nil {
		return "", false
	}
	for _, c := range v.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// Decode returns a body decoded from its Content-Encoding: none, gzip or
// br.
func Decode(encoding string, raw []byte) ([]byte, error) {
	var r io.Reader
	switch encoding {
	case "":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(raw))
	default:
		return nil, fmt.Errorf("unexpected Content-Encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", encoding, err)
	}
	return b, nil
}
