package main

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"shopedge/bench/shop"
)

// The simulated shoppers: each visit is a short script (home, a category,
// a few of its products, maybe a search, maybe a cart add, maybe home
// again), products chosen by Zipf-distributed popularity, and some visits
// made by visitors who came before, with their cookies.

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// step is one request of a visit.
type step struct {
	method string
	path   string
	form   string // POST body, form-encoded
}

// visitor is a browser: a cookie jar.
type visitor struct {
	mu      sync.Mutex
	cookies map[string]string
}

func (v *visitor) cookieHeader(dst []byte) []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, val := range v.cookies {
		if len(dst) > 0 {
			dst = append(dst, "; "...)
		}
		dst = append(dst, k...)
		dst = append(dst, '=')
		dst = append(dst, val...)
	}
	return dst
}

func (v *visitor) store(resp *fasthttp.Response) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, raw := range resp.Header.Cookies() {
		var c fasthttp.Cookie
		if c.ParseBytes(raw) != nil {
			continue
		}
		if v.cookies == nil {
			v.cookies = map[string]string{}
		}
		v.cookies[string(c.Key())] = string(c.Value())
	}
}

// visit is one visitor's script and how far it has gone.
type visit struct {
	who   *visitor
	steps []step
	next  int
}

// workload makes visits. It is safe for concurrent use.
type workload struct {
	mu       sync.Mutex
	r        *rand.Rand
	cat      *shop.Catalog
	tops     []*shop.Category
	topZipf  *rand.Zipf
	prodZipf map[*shop.Category]*rand.Zipf
	large    bool // product pages with every review (~400 KB)

	returning    []*visitor // earlier visitors, for returning visits
	newVisitors  int
	returnVisits int
}

const maxReturning = 50000

func newWorkload(seed uint64, large bool) *workload {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	w := &workload{r: r, cat: shop.NewCatalog(1), large: large, prodZipf: map[*shop.Category]*rand.Zipf{}}
	for _, c := range w.cat.Top {
		if len(c.Products) > 0 {
			w.tops = append(w.tops, c)
		}
	}
	w.topZipf = rand.NewZipf(r, 1.2, 1, uint64(len(w.tops)-1))
	for _, c := range w.tops {
		w.prodZipf[c] = rand.NewZipf(r, 1.1, 1, uint64(len(c.Products)-1))
	}
	return w
}

// newVisit makes the next visit: a returning visitor's one time in three
// (once there are some), a new visitor's otherwise.
func (w *workload) newVisit() *visit {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &visit{}
	if len(w.returning) > 100 && w.r.IntN(3) == 0 {
		v.who = w.returning[w.r.IntN(len(w.returning))]
		w.returnVisits++
	} else {
		v.who = &visitor{}
		w.newVisitors++
		if len(w.returning) < maxReturning {
			w.returning = append(w.returning, v.who)
		} else {
			w.returning[w.r.IntN(maxReturning)] = v.who
		}
	}
	v.steps = w.script()
	return v
}

// script is a shopper's path through the shop; w.mu is held.
func (w *workload) script() []step {
	r := w.r
	top := w.tops[w.topZipf.Uint64()]
	steps := []step{{method: "GET", path: "/"}, {method: "GET", path: top.URL()}}
	var last *shop.Product
	for range 2 + r.IntN(3) {
		p := top.Products[w.prodZipf[top].Uint64()]
		path := p.URL()
		if w.large {
			path += "?reviews=all"
		}
		steps = append(steps, step{method: "GET", path: path})
		last = p
	}
	if r.IntN(10) < 4 {
		word := strings.Fields(last.Name)
		steps = append(steps, step{method: "GET", path: "/search?q=" + url.QueryEscape(strings.ToLower(word[len(word)-1]))})
	}
	if last.InStock && r.IntN(4) == 0 {
		steps = append(steps,
			step{method: "POST", path: "/cart/add", form: "sku=" + last.SKU + "&qty=1"},
			step{method: "GET", path: "/cart"})
	}
	if r.IntN(10) < 3 {
		steps = append(steps, step{method: "GET", path: "/"})
	}
	return steps
}

func (w *workload) counts() (newVisitors, returnVisits int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.newVisitors, w.returnVisits
}

// allPaths lists every GET path the workload can make.
func (w *workload) allPaths(large bool) []string {
	paths := []string{"/", "/cart"}
	for _, c := range w.tops {
		paths = append(paths, c.URL())
		for _, p := range c.Products {
			path := p.URL()
			if large {
				path += "?reviews=all"
			}
			paths = append(paths, path)
			word := strings.Fields(p.Name)
			paths = append(paths, "/search?q="+url.QueryEscape(strings.ToLower(word[len(word)-1])))
		}
	}
	return paths
}
