package proxy

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
)

// Paging of GET /catalog.
const (
	catalogPageDefault = 50
	catalogPageMax     = 1000
)

// catalogView is the JSON form of a learned product.
type catalogView struct {
	ID           string            `json:"id"` // the catalog ID, 16 hex digits
	URL          string            `json:"url"`
	Name         string            `json:"name"`
	Price        *float64          `json:"price"` // null when unknown
	Currency     string            `json:"currency"`
	Availability string            `json:"availability"` // schema.org's name, "" when unknown
	SKU          string            `json:"sku"`
	GTIN         string            `json:"gtin"`
	Brand        string            `json:"brand"`
	Image        string            `json:"image"`
	Rating       *ratingView       `json:"rating,omitempty"` // absent when the shop shows none
	Categories   []categoryView    `json:"categories"`
	Source       map[string]string `json:"source"` // field -> jsonld, microdata, opengraph or page
}

// ratingView is a product's aggregateRating as the catalog keeps it.
type ratingView struct {
	Value   float64 `json:"value"`
	Best    float64 `json:"best"`
	Worst   float64 `json:"worst"`
	Count   uint32  `json:"count"`
	Reviews bool    `json:"reviews"` // count is of written reviews, not of ratings
}

// String is the rating as the console shows it: "4.5 of 5, 132 reviews".
func (r *ratingView) String() string {
	if r == nil {
		return ""
	}
	what := "ratings"
	if r.Reviews {
		what = "reviews"
	}
	return fmt.Sprintf("%s of %s, %d %s", strconv.FormatFloat(r.Value, 'f', -1, 64), strconv.FormatFloat(r.Best, 'f', -1, 64), r.Count, what)
}

type categoryView struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// catalogList is the answer of GET /catalog.
type catalogList struct {
	Total    int           `json:"total"`
	Products []catalogView `json:"products"`
}

func viewProduct(p *catalog.Product) catalogView {
	v := catalogView{
		ID: fmt.Sprintf("%016x", uint64(p.ID)), URL: p.URL, Name: p.Name, Currency: p.Currency,
		Availability: p.Availability.String(), SKU: p.SKU, GTIN: p.GTIN, Brand: p.Brand, Image: p.Image,
		Categories: make([]categoryView, 0, len(p.Categories)), Source: map[string]string{},
	}
	if p.Price > 0 {
		price := p.Price
		v.Price = &price
	}
	if r := p.Rating; r.Count > 0 {
		v.Rating = &ratingView{Value: r.Value, Best: r.Best, Worst: r.Worst, Count: r.Count, Reviews: r.Reviews}
	}
	for _, c := range p.Categories {
		v.Categories = append(v.Categories, categoryView{Name: c.Name, Path: c.Path})
	}
	for f := range catalog.NumFields {
		if s := p.Sources.Of(f); s != catalog.SourceNone {
			v.Source[f.String()] = s.String()
		}
	}
	return v
}

// adminCatalog answers what the catalog learned from the shop's pages:
//
//	GET /catalog?limit=N&offset=M&q=TEXT  products by key, those whose name,
//	                                      SKU, GTIN, brand or URL contain TEXT
//	GET /catalog/{id}                     one product, by the id the list
//	                                      gives or by its SKU
//
// rest is the path after /catalog.
func (p *Proxy) adminCatalog(ctx *fasthttp.RequestCtx, rest string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		catalogError(ctx, fasthttp.StatusMethodNotAllowed, "use GET")
		return
	}
	if rest == "" || rest == "/" {
		args := ctx.QueryArgs()
		limit, ok := catalogArg(args, "limit", catalogPageDefault)
		if !ok || limit < 0 || limit > catalogPageMax {
			catalogError(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 0 to %d", catalogPageMax))
			return
		}
		offset, ok := catalogArg(args, "offset", 0)
		if !ok || offset < 0 {
			catalogError(ctx, fasthttp.StatusBadRequest, "offset must be a whole number, 0 or more")
			return
		}
		total, prods := p.catalog.List(string(args.Peek("q")), offset, limit)
		out := catalogList{Total: total, Products: make([]catalogView, 0, len(prods))}
		for i := range prods {
			out.Products = append(out.Products, viewProduct(&prods[i]))
		}
		writeCatalogJSON(ctx, fasthttp.StatusOK, out)
		return
	}
	ident := rest[1:]
	id, ok := catalog.ID(0), false
	if len(ident) == 16 {
		if n, err := strconv.ParseUint(ident, 16, 64); err == nil {
			id = catalog.ID(n)
			_, ok = p.catalog.Get(id)
		}
	}
	if !ok {
		id, ok = p.catalog.Resolve(ident)
	}
	prod, found := p.catalog.Get(id)
	if !ok || !found {
		catalogError(ctx, fasthttp.StatusNotFound, "no such product")
		return
	}
	writeCatalogJSON(ctx, fasthttp.StatusOK, viewProduct(&prod))
}

// catalogArg reads a whole-number query argument; def when it is absent.
func catalogArg(args *fasthttp.Args, name string, def int) (int, bool) {
	raw := args.Peek(name)
	if len(raw) == 0 {
		return def, true
	}
	n, err := strconv.Atoi(string(raw))
	return n, err == nil
}

func writeCatalogJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		adminError(ctx, "internal error\n", fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

func catalogError(ctx *fasthttp.RequestCtx, status int, msg string) {
	writeCatalogJSON(ctx, status, map[string]string{"error": msg})
}
