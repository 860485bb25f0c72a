package proxy

import (
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/learn"
	"shopedge/proxy/page"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// Warming, for a demo that looks alive on its first page: the catalog
// learns the shop's product pages, and the recommendation engine what
// simulated shoppers did, before the first visitor comes. Neither makes a
// visitor or counts one: no profile, no live count (social proof shows
// real people only), no experiment count.

// LearnPage teaches the catalog the product a page of the shop describes,
// by the path a page that passes through takes (its analysis, then
// learn.Recorder.Page): body is the page as the shop serves it at path
// (decoded), for a visitor on host. It reports whether the page was a
// product page with a product.
func (p *Proxy) LearnPage(host, path string, body []byte, contentType string) bool {
	conf := p.conf.Load()
	typ, _ := conf.cfg.Classify([]byte(path))
	if typ != rules.PageProduct {
		return false
	}
	a, err := page.Analyze(page.Input{
		Config: conf.cfg, Type: typ, Raw: body, Encoding: codec.Identity, ContentType: []byte(contentType),
		URL: "http://" + host + path, Budget: p.pages.Budget(), Log: p.log,
	})
	if err != nil || !a.HasProduct {
		return false
	}
	p.learner.Page(&learn.Facts{Page: typ, Path: []byte(path)}, a, true, p.now())
	return true
}

// WarmVisit is one thing a simulated shopper did: viewed, put in the cart
// or bought (Kind) the product at Path, in visit Session, at At.
type WarmVisit struct {
	Session string
	Path    string
	Kind    recommend.Kind
	At      time.Time
}

// Warm teaches the recommendation engine what simulated shoppers did, as
// the learner records a real visitor's events in it (the product's
// categories from the catalog), and nothing else. Products the catalog has
// not learned are left out. It returns how many events it recorded.
func (p *Proxy) Warm(visits []WarmVisit) int {
	n := 0
	var cats [4]recommend.ID
	for _, v := range visits {
		id, ok := p.catalog.Resolve(catalog.PathKey(v.Path))
		if !ok {
			continue
		}
		c, _, _, _ := p.catalog.Facts(id, cats[:0])
		p.rec.Record(recommend.Event{Session: recommend.SessionKey(v.Session, 0), Item: id, Categories: c, Kind: v.Kind, Time: v.At})
		n++
	}
	return n
}
