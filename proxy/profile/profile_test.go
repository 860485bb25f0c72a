package profile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

func TestVisits(t *testing.T) {
	t.Parallel()
	var d Data
	steps := []struct {
		after    time.Duration
		newVisit bool
		visits   uint32
	}{
		{0, true, 1}, {10 * time.Minute, false, 1}, {29 * time.Minute, false, 1}, {31 * time.Minute, true, 2}, {time.Second, false, 2},
	}
	now := t0
	for i, s := range steps {
		now = now.Add(s.after)
		if got := d.Touch(now, 30*time.Minute); got != s.newVisit || d.Visits != s.visits {
			t.Errorf("step %d: Touch = %v, visits %d; want %v, %d", i, got, d.Visits, s.newVisit, s.visits)
		}
	}
	if !d.Returning() || int64(d.FirstSeen) != t0.Unix() || int64(d.LastSeen) != now.Unix() {
		t.Errorf("returning %v first %d last %d", d.Returning(), d.FirstSeen, d.LastSeen)
	}
}

func TestRecentProducts(t *testing.T) {
	t.Parallel()
	var d Data
	for i := range MaxRecent + 3 {
		d.ViewProduct(catalog.ID(i), nil, t0, week)
	}
	d.ViewProduct(5, nil, t0, week) // seen again: moves to the front
	got := d.Recent()
	if len(got) != MaxRecent || got[0] != 5 || got[1] != MaxRecent+2 {
		t.Fatalf("Recent = %v", got)
	}
	if slices.Contains(got, 0) || slices.Contains(got, 1) || slices.Contains(got, 2) {
		t.Errorf("oldest products kept: %v", got)
	}
	if n := strings.Count(fmt.Sprint(got), " 5 ") + strings.Count(fmt.Sprint(got), "[5 "); n != 1 {
		t.Errorf("product 5 listed %d times: %v", n, got)
	}
}

func TestVisitViews(t *testing.T) {
	t.Parallel()
	var d Data
	const gap = 30 * time.Minute
	d.Touch(t0, gap)
	d.ViewProduct(1, nil, t0, week)
	now := t0.Add(time.Hour) // a new visit
	d.Touch(now, gap)
	for _, id := range []catalog.ID{2, 3, 2, 4} {
		d.ViewProduct(id, nil, now, week)
	}
	if got, want := d.VisitViews(nil), []catalog.ID{3, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("VisitViews = %v, want %v (this visit's products, by latest view, oldest first)", got, want)
	}
}

func TestInterestDecays(t *testing.T) {
	t.Parallel()
	var d Data
	shoes, sneakers, hats := catalog.ID(1), catalog.ID(2), catalog.ID(3)
	d.ViewProduct(10, []catalog.ID{shoes, sneakers}, t0, week)
	d.ViewProduct(11, []catalog.ID{shoes, sneakers}, t0, week)
	d.ViewCategory([]catalog.ID{hats}, t0, week)
	tests := []struct {
		cat  catalog.ID
		at   time.Time
		want float64
	}{
		{sneakers, t0, 2}, {shoes, t0, 1.8}, {hats, t0, 0.5}, {sneakers, t0.Add(week), 1}, {shoes, t0.Add(2 * week), 0.45}, {99, t0, 0},
	}
	for _, tt := range tests {
		if got := d.Interest(tt.cat, tt.at, week); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("Interest(%d) = %v, want %v", tt.cat, got, tt.want)
		}
	}
	// A full table replaces its weakest entry.
	for i := range MaxInterests {
		d.ViewCategory([]catalog.ID{catalog.ID(100 + i)}, t0.Add(week), week)
	}
	if d.Interest(hats, t0.Add(week), week) != 0 {
		t.Errorf("weakest interest (hats) was kept")
	}
	if d.Interest(sneakers, t0.Add(week), week) == 0 {
		t.Errorf("strong interest (sneakers) was dropped")
	}
}

func TestCartAndPurchase(t *testing.T) {
	t.Parallel()
	var d Data
	d.AddToCart(1, 2, t0)
	d.AddToCart(2, 0, t0)
	d.AddToCart(1, 1, t0)
	if got := d.Cart(); !slices.Equal(got, []CartLine{{1, 3}, {2, 1}}) {
		t.Fatalf("Cart = %v", got)
	}
	if d.CartAt != uint32(t0.Unix()) {
		t.Errorf("CartAt = %d, want %d", d.CartAt, t0.Unix())
	}
	if !d.InCart(2) || d.InCart(3) {
		t.Errorf("InCart wrong")
	}
	d.Purchase(t0.Add(time.Minute))
	if d.BoughtAt != uint32(t0.Add(time.Minute).Unix()) {
		t.Errorf("BoughtAt = %d, want %d", d.BoughtAt, t0.Add(time.Minute).Unix())
	}
	if len(d.Cart()) != 0 || !d.Customer || d.Orders != 1 {
		t.Errorf("after purchase: cart %v customer %v orders %d", d.Cart(), d.Customer, d.Orders)
	}
	if got := d.Purchased(); !slices.Equal(got, []catalog.ID{1, 2}) {
		t.Errorf("Purchased = %v", got)
	}
	for i := range MaxCart + 2 {
		d.AddToCart(catalog.ID(100+i), 1, t0)
	}
	if c := d.Cart(); len(c) != MaxCart || c[0].Product != 102 {
		t.Errorf("full cart = %v", c)
	}
}

func TestSearchAndSourceAreBounded(t *testing.T) {
	t.Parallel()
	var d Data
	long := strings.Repeat("é", 100)
	d.Search(long)
	d.SetSource(Source{UTMSource: long})
	if s := d.Searches()[0]; len(s) > MaxText || !strings.HasPrefix(long, s) || strings.ToValidUTF8(s, "?") != s {
		t.Errorf("search kept as %q", s)
	}
	if src := d.Source(); len(src.UTMSource) > MaxText {
		t.Errorf("source kept %d bytes", len(src.UTMSource))
	}
}

// TestStoreBound fills a store far past its budget: the budget holds, and
// every profile the cache let go is counted.
func TestStoreBound(t *testing.T) {
	t.Parallel()
	const budget = 1 << 20
	s, err := NewStore(budget, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 5000
	for i := range n {
		p, created := s.Load(fmt.Sprintf("visitor-%05d", i))
		if !created || p == nil {
			t.Fatalf("Load %d: created %v", i, created)
		}
		if i%500 == 0 {
			s.Wait()
		}
	}
	s.Wait()
	st := s.Stats()
	if st.CostUsed > budget {
		t.Errorf("cost used %d > budget %d", st.CostUsed, budget)
	}
	if st.Held > budget/Cost {
		t.Errorf("held %d profiles, budget allows %d", st.Held, budget/Cost)
	}
	if st.Created != n {
		t.Errorf("created %d, want %d", st.Created, n)
	}
	if st.Held+st.Evicted != n {
		t.Errorf("held %d + evicted %d, want %d: profiles unaccounted for: %+v", st.Held, st.Evicted, n, st)
	}
}

func TestStoreKeepsUpdatesInPlace(t *testing.T) {
	t.Parallel()
	s, err := NewStore(64<<20, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, _ := s.Load("v1")
	s.Wait()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				q, created := s.Load("v1")
				if created {
					t.Errorf("profile created again")
					return
				}
				q.Update(func(d *Data) { d.AddToCart(catalog.ID(i*1000+j), 1, t0) })
			}
		}()
	}
	wg.Wait()
	if got := p.Snapshot().PageViews; got != 0 {
		t.Errorf("page views %d", got)
	}
	if snap := p.Snapshot(); len(snap.Cart()) != MaxCart {
		n := len(snap.Cart())
		t.Errorf("cart has %d lines, want %d", n, MaxCart)
	}
	s.Delete("v1")
	s.Wait()
	if _, ok := s.Get("v1"); ok {
		t.Errorf("deleted profile still held")
	}
}

// TestStoreNewProfileIsVisibleAtOnce: a visitor's second request, right
// after the first, finds the profile the first created.
func TestStoreNewProfileIsVisibleAtOnce(t *testing.T) {
	t.Parallel()
	s, err := NewStore(64<<20, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 2000 {
		id := fmt.Sprintf("v%d", i)
		p, created := s.Load(id)
		if !created {
			t.Fatalf("%s: not created", id)
		}
		if q, created := s.Load(id); created || q != p {
			t.Fatalf("%s: second Load made another profile", id)
		}
		if q, ok := s.Get(id); !ok || q != p {
			t.Fatalf("%s: Get did not find the new profile", id)
		}
	}
}

// TestStoreExpiry: a visitor not seen for longer than the TTL is forgotten.
func TestStoreExpiry(t *testing.T) {
	t.Parallel()
	s, err := NewStore(64<<20, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := t0
	s.now = func() time.Time { return now }
	p, _ := s.Load("v")
	p.Update(func(d *Data) { d.Touch(now, 30*time.Minute) })
	s.Wait()
	now = now.Add(59 * time.Minute)
	if q, created := s.Load("v"); created || q != p {
		t.Fatalf("profile forgotten before its TTL")
	}
	p.Update(func(d *Data) { d.Touch(now, 30*time.Minute) })
	now = now.Add(61 * time.Minute)
	if _, ok := s.Get("v"); ok {
		t.Fatalf("profile kept past its TTL")
	}
	if q, created := s.Load("v"); !created || q == p {
		t.Errorf("an expired visitor did not start afresh")
	}
}

// TestSizeClass keeps the profile in the size class Cost charges for.
func TestSizeClass(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(Profile{}); n > 768 {
		t.Errorf("Profile is %d bytes; Cost charges 768 for it", n)
	}
}

func TestOverlayMemory(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var d Data
	d.Touch(day, 30*time.Minute)
	a, b := OverlayKey("exit-offer"), OverlayKey("cart-reminder")
	if a == b || a == 0 {
		t.Fatalf("keys %d %d", a, b)
	}
	if s := d.Overlay(a, day); s != (OverlaySeen{}) {
		t.Fatalf("never shown: %+v", s)
	}
	d.OverlayShown(a, day)
	d.OverlayShown(a, day.Add(time.Minute))
	s := d.Overlay(a, day.Add(time.Minute))
	if s.ShownThisVisit != 2 || s.ShownToday != 2 || !s.LastShown.Equal(day.Add(time.Minute)) {
		t.Errorf("after two shows: %+v", s)
	}
	if d.OverlayAt != uint32(day.Add(time.Minute).Unix()) {
		t.Errorf("OverlayAt %d", d.OverlayAt)
	}
	// A new visit the same day: the visit count starts again, the day's
	// does not.
	later := day.Add(3 * time.Hour)
	d.Touch(later, 30*time.Minute)
	if s := d.Overlay(a, later); s.ShownThisVisit != 0 || s.ShownToday != 2 {
		t.Errorf("new visit: %+v", s)
	}
	// The next day both start again.
	next := day.Add(24 * time.Hour)
	d.Touch(next, 30*time.Minute)
	if s := d.Overlay(a, next); s.ShownThisVisit != 0 || s.ShownToday != 0 {
		t.Errorf("next day: %+v", s)
	}
	d.OverlayShown(a, next)
	if s := d.Overlay(a, next); s.ShownThisVisit != 1 || s.ShownToday != 1 {
		t.Errorf("shown next day: %+v", s)
	}
	// A dismissal holds until its time.
	d.OverlayDismissed(b, next.Add(time.Hour))
	if s := d.Overlay(b, next.Add(30*time.Minute)); !s.DismissedUntil.Equal(next.Add(time.Hour)) {
		t.Errorf("dismissed: %+v", s)
	}
	if s := d.Overlay(b, next.Add(2*time.Hour)); !s.DismissedUntil.IsZero() {
		t.Errorf("dismissal outlived its time: %+v", s)
	}
	// Only MaxOverlays are remembered: the one seen longest ago goes.
	for i := range MaxOverlays {
		d.OverlayShown(OverlayKey(fmt.Sprint("o", i)), next.Add(time.Duration(i+1)*time.Hour))
	}
	if s := d.Overlay(a, next.Add(10*time.Hour)); !s.LastShown.IsZero() {
		t.Errorf("the oldest overlay was kept: %+v", s)
	}
}

func TestCartsLeftAndJustBought(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var d Data
	d.Touch(t0, 30*time.Minute)
	d.AddToCart(1, 1, t0)
	if d.CartFromEarlierVisit() || d.CartsLeft != 0 {
		t.Fatalf("same visit: earlier %v, left %d", d.CartFromEarlierVisit(), d.CartsLeft)
	}
	d.Touch(t0.Add(time.Hour), 30*time.Minute) // a new visit, cart still full
	if !d.CartFromEarlierVisit() || d.CartsLeft != 1 {
		t.Errorf("new visit: earlier %v, left %d", d.CartFromEarlierVisit(), d.CartsLeft)
	}
	d.Purchase(t0.Add(time.Hour))
	if !d.JustBought() {
		t.Error("a purchase in this visit is not just bought")
	}
	d.Touch(t0.Add(5*time.Hour), 30*time.Minute)
	if d.JustBought() || d.CartsLeft != 1 {
		t.Errorf("next visit: just bought %v, left %d", d.JustBought(), d.CartsLeft)
	}
}

// TestSourceClass: the visit's class is kept with its source, and every
// field of a full source survives, the referrer longest.
func TestSourceClass(t *testing.T) {
	t.Parallel()
	var d Data
	src := Source{UTMSource: "newsletter-dec", UTMMedium: "email", UTMCampaign: "xmas", Referrer: "mail.google.com", Class: traffic.Email}
	d.SetSource(src)
	if got := d.Source(); got != src || d.Traffic() != traffic.Email {
		t.Errorf("source = %+v, traffic %v; want %+v", got, d.Traffic(), src)
	}
	long := strings.Repeat("x", 30)
	d.SetSource(Source{UTMSource: long, UTMMedium: long, UTMCampaign: long, Referrer: long, Class: traffic.Paid})
	got := d.Source()
	if len(got.UTMSource) != 18 || len(got.UTMCampaign) != 18 || len(got.Referrer) != 21 || got.Class != traffic.Paid {
		t.Errorf("a full source kept %+v", got)
	}
	if string(d.SourceField(SourceReferrer)) != got.Referrer {
		t.Errorf("SourceField(referrer) = %q", d.SourceField(SourceReferrer))
	}
}

// TestInterestRankAndViews: the rank among the visitor's categories, what
// the profile viewed and searched, read without allocating (not parallel:
// AllocsPerRun).
func TestInterestRankAndViews(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var d Data
	d.ViewCategory([]catalog.ID{1}, now, time.Hour)
	d.ViewProduct(10, []catalog.ID{2}, now, time.Hour)
	d.ViewProduct(11, []catalog.ID{2}, now, time.Hour)
	d.ViewProduct(12, []catalog.ID{3}, now, time.Hour)
	d.Search("Trail Shoes")
	d.Search("boots")
	for _, tt := range []struct {
		cat      catalog.ID
		rank     int
		ok, seen bool
	}{{2, 0, true, true}, {3, 1, true, true}, {1, 2, true, true}, {9, 0, false, false}} {
		rank, ok := d.InterestRank(tt.cat, now, time.Hour)
		if rank != tt.rank || ok != tt.ok || d.HasInterest(tt.cat) != tt.seen {
			t.Errorf("category %d: rank %d, %v, has %v; want %d, %v, %v", tt.cat, rank, ok, d.HasInterest(tt.cat), tt.rank, tt.ok, tt.seen)
		}
	}
	if !d.Viewed(11) || d.Viewed(13) {
		t.Error("Viewed is wrong")
	}
	if string(d.SearchTerm(0)) != "boots" || string(d.SearchTerm(1)) != "Trail Shoes" || d.SearchTerm(2) != nil {
		t.Errorf("search terms %q %q %q", d.SearchTerm(0), d.SearchTerm(1), d.SearchTerm(2))
	}
	if n := testing.AllocsPerRun(10, func() {
		d.InterestRank(2, now, time.Hour)
		d.SearchTerm(1)
		d.Viewed(11)
	}); n != 0 {
		t.Errorf("reads allocate %v times", n)
	}
}
