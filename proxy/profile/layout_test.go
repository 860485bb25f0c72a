package profile

import (
	"strconv"
	"time"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

// fixtureSearches are the searches of visitor-0 in the fixtures, oldest
// first: 82 bytes as texts, more than either layout's searches hold.
var fixtureSearches = []string{"linen shirt", "blue summer dress long sleeves", "waterproof hiking boots for women", "gift"}

// fillFixture loads three visitors, one a second from *now on, with what
// every field of Data can hold: the content of the committed fixtures of
// earlier layouts (testdata/layout-v*.{snapshot,profile}), which were made
// by this function in the build of that layout.
func fillFixture(s *Store, now *time.Time) {
	for i := range 3 {
		p, _ := s.Load("visitor-" + strconv.Itoa(i))
		at := *now
		p.Update(func(d *Data) {
			d.Touch(at, 30*time.Minute)
			if i == 2 {
				return // a visitor of one request
			}
			d.ViewCategory([]catalog.ID{500, 501}, at, 24*time.Hour)
			for j := range 3 {
				d.ViewProduct(catalog.ID(10*i+j+1), []catalog.ID{500, catalog.ID(502 + j)}, at, 24*time.Hour)
			}
			d.AddToCart(catalog.ID(10*i+1), 2, at)
			d.AddToCart(catalog.ID(10*i+2), 1, at)
			d.SetSource(Source{UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "winter", Referrer: "mail.example.com", Class: traffic.Email})
			d.Device = agent.Device{Class: agent.Mobile, OS: agent.Android, Browser: agent.Chrome}
			d.Expose(77, 1)
			d.OverlayShown(OverlayKey("newsletter"), at)
			d.OverlayDismissed(OverlayKey("newsletter"), at.Add(time.Hour))
			if i == 0 {
				for _, q := range fixtureSearches {
					d.Search(q)
				}
				return
			}
			d.Search("shoes")
			d.Purchase(at)
		})
		*now = now.Add(time.Second)
	}
}
