package shop

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

//go:embed templates/*.html static/*
var files embed.FS

// SessionCookie is the shop's own session cookie, holding the cart's key.
const SessionCookie = "nw_session"

// lastModified returns the Last-Modified of catalog pages: the catalog is
// generated, so it never changes while the shop runs. A function, not a
// package-level variable, so that the package does no work when a program
// that links it starts.
func lastModified() time.Time { return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC) }

// Shop is the demo storefront: an http.Handler serving a generated catalog.
type Shop struct {
	Catalog *Catalog
	// CSP makes every page carry a strict Content-Security-Policy with a
	// fresh nonce, on its inline style and scripts too.
	CSP bool

	pages map[string]*template.Template

	mu     sync.Mutex
	carts  map[string]map[string]int // session -> sku -> quantity
	placed map[string]*Order         // order number -> the order
	orders atomic.Int64
}

// Order is an order placed through the checkout: the cart as it was,
// priced, under its number.
type Order struct {
	Number   string
	Lines    []OrderLine
	Total    float64 // the sum of the lines, rounded to cents: what the cart cost
	Currency string  // ISO 4217
	Placed   time.Time
}

// OrderLine is one product of an order.
type OrderLine struct {
	Product *Product
	Qty     int
	Total   float64 // Qty × the product's price
}

// Items is how many articles the order holds (the quantities' sum).
func (o *Order) Items() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Qty
	}
	return n
}

// maxSessions bounds the carts the shop keeps, and maxOrders the orders;
// beyond it, an arbitrary half is forgotten (a demo shop, not a
// database).
const (
	maxSessions = 200000
	maxOrders   = 200000
)

// New returns the demo shop for a catalog generated from seed.
func New(seed uint64) *Shop {
	s := &Shop{Catalog: NewCatalog(seed), pages: map[string]*template.Template{}, carts: map[string]map[string]int{}, placed: map[string]*Order{}}
	for _, name := range []string{"home", "category", "product", "search", "cart", "checkout", "thanks", "page"} {
		t := template.Must(template.New(name).ParseFS(files,
			"templates/layout.html", "templates/cards.html", "templates/crumbs.html", "templates/"+name+".html"))
		s.pages[name] = t
	}
	return s
}

// view is what every page template reads.
type view struct {
	Title, Description, Canonical, Origin string
	PageType                              string
	Query                                 string
	CartCount                             int
	Nav                                   []*Category
	Crumbs                                []crumb
	Category                              *Category
	Product                               *Product
	Products, More                        []*Product
	Pages                                 []pageLink
	Thumbs                                []int
	Lines                                 []cartLine
	Subtotal                              float64
	Order                                 string
	Placed                                *Order // the order the confirmation page shows, when the shop knows its number
	ProductLD, BreadcrumbLD, OrderLD      template.JS
	Nonce                                 string // the CSP nonce of this response, when the shop sends a policy
}

type crumb struct{ Name, URL string }

type pageLink struct {
	N       int
	Current bool
}

type cartLine struct {
	Product *Product
	Qty     int
	Total   float64
}

// ServeHTTP routes a request.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/":
		s.home(w, r)
	case strings.HasPrefix(p, "/c/"):
		s.category(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/c/"), "/"))
	case strings.HasPrefix(p, "/p/"):
		s.product(w, r, strings.TrimPrefix(p, "/p/"))
	case p == "/search":
		s.search(w, r)
	case p == "/cart":
		s.cart(w, r)
	case p == "/cart/add":
		s.cartAdd(w, r)
	case p == "/checkout":
		s.checkout(w, r)
	case p == "/checkout/place":
		s.place(w, r)
	case p == "/checkout/thank-you":
		s.thanks(w, r)
	case strings.HasPrefix(p, "/img/"):
		s.image(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/img/"), ".svg"))
	case strings.HasPrefix(p, "/static/"):
		s.static(w, r, strings.TrimPrefix(p, "/static/"))
	case p == "/download/catalog.bin":
		s.download(w, r)
	case p == "/sale":
		http.Redirect(w, r, "/c/sale", http.StatusMovedPermanently)
	case p == "/account":
		http.Redirect(w, r, "/account/login", http.StatusFound)
	case p == "/slow":
		s.slow(w, r)
	case p == "/boom":
		s.render(w, r, http.StatusInternalServerError, "page", &view{Title: "Something went wrong", Description: "Our shop had a problem. Please try again in a minute."})
	case strings.HasPrefix(p, "/help/"), strings.HasPrefix(p, "/about"), strings.HasPrefix(p, "/legal/"), p == "/account/login", p == "/wishlist":
		s.render(w, r, http.StatusOK, "page", &view{Title: pageTitle(p), Description: "This page of the demo shop has no content yet."})
	default:
		s.notFound(w, r)
	}
}

func pageTitle(p string) string {
	p = p[strings.LastIndexByte(p, '/')+1:]
	if p == "" {
		return "Northwind"
	}
	return strings.ToUpper(p[:1]) + strings.ReplaceAll(p[1:], "-", " ")
}

func (s *Shop) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, "page", &view{Title: "Page not found", Description: "We could not find that page. It may have moved, or the link may be wrong."})
}

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	best := append([]*Product(nil), s.Catalog.Products...)
	sort.SliceStable(best, func(i, j int) bool { return best[i].Reviews > best[j].Reviews })
	newIn := s.Catalog.Products[len(s.Catalog.Products)-12:]
	s.render(w, r, http.StatusOK, "home", &view{
		Title: "Clothing, shoes & homeware", Description: "Well-made clothing, shoes and homeware from independent makers.",
		Products: best[:12], More: newIn,
	})
}

func (s *Shop) category(w http.ResponseWriter, r *http.Request, slug string) {
	c, ok := s.Catalog.Categories[slug]
	if !ok {
		s.notFound(w, r)
		return
	}
	products := append([]*Product(nil), c.Products...)
	switch r.URL.Query().Get("sort") {
	case "price":
		sort.SliceStable(products, func(i, j int) bool { return products[i].Price < products[j].Price })
	case "rating":
		sort.SliceStable(products, func(i, j int) bool { return products[i].Rating > products[j].Rating })
	}
	const perPage = 24
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max(1, (len(products)+perPage-1)/perPage)
	page = min(max(page, 1), pages)
	v := &view{
		Title: c.Name, Description: fmt.Sprintf("Shop %s at Northwind: %d products.", c.Name, len(c.Products)),
		Category: c, Products: products[(page-1)*perPage : min(page*perPage, len(products))],
	}
	for n := 1; n <= pages; n++ {
		v.Pages = append(v.Pages, pageLink{N: n, Current: n == page})
	}
	path := c.Path()
	for i, x := range path {
		cr := crumb{Name: x.Name, URL: x.URL()}
		if i == len(path)-1 {
			cr.URL = ""
		}
		v.Crumbs = append(v.Crumbs, cr)
	}
	v.BreadcrumbLD = breadcrumbLD(origin(r), path, "")
	s.render(w, r, http.StatusOK, "category", v)
}

func (s *Shop) product(w http.ResponseWriter, r *http.Request, slug string) {
	p, ok := s.Catalog.BySlug[strings.TrimSuffix(slug, "/")]
	if !ok {
		s.notFound(w, r)
		return
	}
	var related []*Product
	for _, q := range p.Category.Products {
		if q != p && len(related) < 8 {
			related = append(related, q)
		}
	}
	o := origin(r)
	v := &view{
		Title: p.Name, Description: p.Description[0], Product: p, Products: related, Origin: o,
		Thumbs: []int{1, 2, 3, 4},
	}
	for _, x := range p.Category.Path() {
		v.Crumbs = append(v.Crumbs, crumb{Name: x.Name, URL: x.URL()})
	}
	v.Crumbs = append(v.Crumbs, crumb{Name: p.Name})
	v.ProductLD = productLD(o, p)
	v.BreadcrumbLD = breadcrumbLD(o, p.Category.Path(), p.Name)
	switch n := r.URL.Query().Get("reviews"); n {
	case "":
	case "all":
		// Every review inline, as some platforms do: a page of ~400 KB,
		// the median size of real product pages.
		v.Product = withReviews(p, 2300)
	default:
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			v.Product = withReviews(p, min(k, 2300))
		}
	}
	s.render(w, r, http.StatusOK, "product", v)
}

// withReviews returns a copy of p whose description carries n reviews
// (about 165 bytes each).
func withReviews(p *Product, n int) *Product {
	q := *p
	q.Description = append([]string(nil), p.Description...)
	for i := range n {
		q.Description = append(q.Description, fmt.Sprintf("Review %d: %s %s", i+1, sentences[i%len(sentences)], sentences[(i*7+3)%len(sentences)]))
	}
	return &q
}

func (s *Shop) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	res := s.Catalog.Search(q)
	if len(res) > 48 {
		res = res[:48]
	}
	s.render(w, r, http.StatusOK, "search", &view{Title: "Search", Description: "Search the shop.", Query: q, Products: res})
}

// session returns the visitor's session id, creating it (and its cookie)
// when create is set.
func (s *Shop) session(w http.ResponseWriter, r *http.Request, create bool) string {
	if c, err := r.Cookie(SessionCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	if !create {
		return ""
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: "nw_currency", Value: "EUR", Path: "/", MaxAge: 86400 * 30, SameSite: http.SameSiteLaxMode})
	return id
}

func (s *Shop) lines(sid string) ([]cartLine, float64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.linesLocked(sid)
}

// linesLocked is lines with s.mu held.
func (s *Shop) linesLocked(sid string) ([]cartLine, float64, int) {
	var lines []cartLine
	var total float64
	var count int
	for sku, q := range s.carts[sid] {
		p := s.Catalog.BySKU[sku]
		lines = append(lines, cartLine{Product: p, Qty: q, Total: float64(q) * p.Price})
		total += float64(q) * p.Price
		count += q
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Product.SKU < lines[j].Product.SKU })
	return lines, math.Round(total*100) / 100, count
}

func (s *Shop) cart(w http.ResponseWriter, r *http.Request) {
	lines, total, _ := s.lines(s.session(w, r, false))
	s.render(w, r, http.StatusOK, "cart", &view{Title: "Cart", Description: "Your cart.", Lines: lines, Subtotal: total})
}

func (s *Shop) cartAdd(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sku, qty := r.PostFormValue("sku"), r.PostFormValue("qty")
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		sku, qty = body.SKU, strconv.Itoa(body.Qty)
	}
	p, ok := s.Catalog.BySKU[sku]
	if !ok || !p.InStock {
		http.Error(w, "no such product in stock", http.StatusUnprocessableEntity)
		return
	}
	n, err := strconv.Atoi(qty)
	if err != nil || n < 1 {
		n = 1
	}
	sid := s.session(w, r, true)
	s.mu.Lock()
	if len(s.carts) >= maxSessions {
		for k := range s.carts {
			delete(s.carts, k)
			if len(s.carts) < maxSessions/2 {
				break
			}
		}
	}
	if s.carts[sid] == nil {
		s.carts[sid] = map[string]int{}
	}
	s.carts[sid][sku] += min(n, 10)
	s.mu.Unlock()
	_, _, count := s.lines(sid)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "sku": sku, "name": p.Name, "count": count})
		return
	}
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	lines, total, _ := s.lines(s.session(w, r, false))
	s.render(w, r, http.StatusOK, "checkout", &view{Title: "Checkout", Description: "Checkout.", Lines: lines, Subtotal: total})
}

func (s *Shop) place(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Redirect(w, r, "/checkout", http.StatusSeeOther)
		return
	}
	sid := s.session(w, r, false)
	o := &Order{Number: "NW" + strconv.FormatInt(100000+s.orders.Add(1), 10), Currency: "EUR", Placed: time.Now().UTC()}
	s.mu.Lock()
	// The cart is read and emptied at once: an add racing the order is
	// in the order or in the next cart, never lost.
	lines, total, _ := s.linesLocked(sid)
	delete(s.carts, sid)
	if len(s.placed) >= maxOrders {
		for k := range s.placed {
			delete(s.placed, k)
			if len(s.placed) < maxOrders/2 {
				break
			}
		}
	}
	s.placed[o.Number] = o
	s.mu.Unlock()
	for _, l := range lines {
		o.Lines = append(o.Lines, OrderLine(l))
	}
	o.Total = total
	http.Redirect(w, r, "/checkout/thank-you?order="+o.Number, http.StatusSeeOther)
}

// Order returns the order placed under number, if the shop still keeps
// it.
func (s *Shop) Order(number string) (*Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.placed[number]
	return o, ok
}

func (s *Shop) thanks(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("order")
	v := &view{Title: "Thank you", Description: "Order confirmed.", Order: number, Products: s.Catalog.Products[:4]}
	if o, ok := s.Order(number); ok {
		v.Placed = o
		v.OrderLD = orderLD(origin(r), o)
	}
	s.render(w, r, http.StatusOK, "thanks", v)
}

func (s *Shop) slow(w http.ResponseWriter, r *http.Request) {
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	select {
	case <-time.After(time.Duration(min(max(ms, 0), 10000)) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	s.render(w, r, http.StatusOK, "page", &view{Title: "Slow", Description: "This page took its time."})
}

// render executes a page template and writes it, compressed when the client
// accepts it, with the cache headers a real shop would send.
func (s *Shop) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	sid := s.session(w, r, false)
	_, _, v.CartCount = s.lines(sid)
	coding := chooseCoding(r.Header.Get("Accept-Encoding"))
	v.Nav = s.Catalog.Top
	v.PageType = name
	if v.Origin == "" {
		v.Origin = origin(r)
	}
	v.Canonical = v.Origin + r.URL.Path
	if s.CSP {
		v.Nonce = newNonce()
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	p := &renderedPage{status: status, header: http.Header{}}
	h := p.header
	h.Set("Content-Type", "text/html; charset=utf-8")
	if v.Nonce != "" {
		// A strict policy, as careful shops send: scripts and styles by
		// this response's nonce only (styles from the shop's origin too).
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+v.Nonce+"' 'strict-dynamic'; style-src 'self' 'nonce-"+v.Nonce+"'; img-src 'self' data:; object-src 'none'; base-uri 'self'")
	}
	switch name {
	case "home", "category", "product", "search":
		if v.CartCount == 0 {
			h.Set("Cache-Control", "public, max-age=60")
			h.Set("Last-Modified", lastModified().Format(http.TimeFormat))
			h.Set("ETag", fmt.Sprintf(`W/"%x"`, hash(buf.Bytes())))
		} else {
			h.Set("Cache-Control", "private, no-cache")
		}
	default:
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Vary", "Accept-Encoding")
	p.body = compress(coding, buf.Bytes())
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	p.write(w, r)
}

// renderedPage is a page as sent: status, headers and encoded body.
type renderedPage struct {
	status int
	header http.Header
	body   []byte
}

func (p *renderedPage) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v
	}
	if etag := p.header.Get("ETag"); etag != "" && p.status == http.StatusOK && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(p.body)))
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}

func hash(b []byte) uint64 {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// chooseCoding picks brotli or gzip when the client accepts one, as most
// shop platforms do, or "" for none.
func chooseCoding(acceptEncoding string) string {
	switch {
	case acceptsCoding(acceptEncoding, "br"):
		return "br"
	case acceptsCoding(acceptEncoding, "gzip"):
		return "gzip"
	}
	return ""
}

func compress(coding string, body []byte) []byte {
	var out bytes.Buffer
	switch coding {
	case "br":
		bw := brotli.NewWriterLevel(&out, 4)
		_, _ = bw.Write(body)
		_ = bw.Close()
	case "gzip":
		zw, _ := gzip.NewWriterLevel(&out, 6)
		_, _ = zw.Write(body)
		_ = zw.Close()
	default:
		return body
	}
	return out.Bytes()
}

func acceptsCoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), coding) {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}

func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func productLD(origin string, p *Product) template.JS {
	avail := "https://schema.org/InStock"
	if !p.InStock {
		avail = "https://schema.org/OutOfStock"
	}
	ld := map[string]any{
		"@context":    "https://schema.org",
		"@type":       "Product",
		"name":        p.Name,
		"sku":         p.SKU,
		"image":       []string{origin + p.Image()},
		"description": p.Description[0],
		"brand":       map[string]any{"@type": "Brand", "name": p.Brand},
		"color":       p.Color,
		"offers": map[string]any{
			"@type": "Offer", "url": origin + p.URL(), "priceCurrency": "EUR",
			"price": p.PriceText(), "availability": avail, "itemCondition": "https://schema.org/NewCondition",
		},
	}
	if p.Reviews > 0 {
		ld["aggregateRating"] = map[string]any{"@type": "AggregateRating", "ratingValue": p.Rating, "reviewCount": p.Reviews,
			"bestRating": 5, "worstRating": 1}
	}
	b, _ := json.Marshal(ld) // escapes <, > and &: safe inside <script>
	return template.JS(b)
}

func breadcrumbLD(origin string, path []*Category, last string) template.JS {
	items := []map[string]any{{"@type": "ListItem", "position": 1, "name": "Home", "item": origin + "/"}}
	for i, c := range path {
		items = append(items, map[string]any{"@type": "ListItem", "position": i + 2, "name": c.Name, "item": origin + c.URL()})
	}
	if last != "" {
		items = append(items, map[string]any{"@type": "ListItem", "position": len(items) + 1, "name": last})
	}
	b, _ := json.Marshal(map[string]any{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items})
	return template.JS(b)
}

// orderLD is an order as schema.org Order JSON-LD, the way shop
// platforms print it on their confirmation pages (and Google's order
// markup asks): the number and status, the total both as the Order's
// price and as totalPaymentDue, and each line twice, as an acceptedOffer
// (price and eligibleQuantity) and as an OrderItem (orderQuantity).
func orderLD(origin string, o *Order) template.JS {
	money := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	offers := make([]map[string]any, 0, len(o.Lines))
	items := make([]map[string]any, 0, len(o.Lines))
	for i, l := range o.Lines {
		p := l.Product
		product := map[string]any{"@type": "Product", "sku": p.SKU, "name": p.Name, "url": origin + p.URL(), "image": origin + p.Image()}
		offers = append(offers, map[string]any{
			"@type": "Offer", "itemOffered": product, "price": money(p.Price), "priceCurrency": o.Currency,
			"eligibleQuantity": map[string]any{"@type": "QuantitativeValue", "value": l.Qty},
		})
		items = append(items, map[string]any{
			"@type": "OrderItem", "orderItemNumber": fmt.Sprintf("%s-%d", o.Number, i+1), "orderQuantity": l.Qty,
			"orderedItem": product,
		})
	}
	ld := map[string]any{
		"@context":      "https://schema.org",
		"@type":         "Order",
		"orderNumber":   o.Number,
		"orderStatus":   "https://schema.org/OrderProcessing",
		"orderDate":     o.Placed.Format(time.RFC3339),
		"merchant":      map[string]any{"@type": "Organization", "name": "Northwind Outfitters"},
		"price":         money(o.Total),
		"priceCurrency": o.Currency,
		"totalPaymentDue": map[string]any{
			"@type": "PriceSpecification", "price": money(o.Total), "priceCurrency": o.Currency,
		},
		"acceptedOffer": offers,
		"orderedItem":   items,
	}
	b, _ := json.Marshal(ld) // escapes <, > and &: safe inside <script>
	return template.JS(b)
}

// newNonce returns a random CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
