package profile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"testing"
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

// fixtureData is what fillFixture makes in this build, by visitor.
func fixtureData(t *testing.T) map[string]Data {
	t.Helper()
	now := snapT0
	s := snapStore(t, 10, 24*time.Hour, &now)
	fillFixture(s, &now)
	out := map[string]Data{}
	for i := range 3 {
		id := "visitor-" + strconv.Itoa(i)
		p, _ := s.Get(id)
		out[id] = p.Snapshot()
	}
	return out
}

// TestFixturesAreLayout1: the committed fixtures are of layout 1, as its
// frozen struct (dataV1) lays it out: a change to a type it shares with
// Data (an ExperimentSlot's field, say) that moves layout 1 fails here.
func TestFixturesAreLayout1(t *testing.T) {
	t.Parallel()
	snap, err := os.ReadFile("testdata/layout-v1.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	lay, err := readHeader(bufio.NewReader(bytes.NewReader(snap)))
	if err != nil {
		t.Fatalf("the layout-1 snapshot's header: %v", err)
	}
	if lay.version != 1 || lay.decode == nil {
		t.Errorf("the layout-1 snapshot reads as layout %d", lay.version)
	}
	b, err := os.ReadFile("testdata/layout-v1.profile")
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 1 || binary.LittleEndian.Uint64(b[1:]) != layouts[1].fingerprint || len(b) != encodedHeader+layouts[1].size {
		t.Errorf("the layout-1 profile: version %d, fingerprint %x, %d bytes; layout 1 is %x, %d bytes",
			b[0], binary.LittleEndian.Uint64(b[1:]), len(b), layouts[1].fingerprint, encodedHeader+layouts[1].size)
	}
	if layouts[1].fingerprint == layoutFingerprint {
		t.Error("layout 1 and this build's have one fingerprint")
	}
}

// TestReadSnapshotLayout1: a snapshot written by the build of layout 1
// restores every visitor as this build would have recorded them (the
// search terms that no longer fit dropped, oldest first; no last click),
// and writes again in this build's layout, which reads back the same.
func TestReadSnapshotLayout1(t *testing.T) {
	t.Parallel()
	snap, err := os.ReadFile("testdata/layout-v1.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	now := snapT0.Add(time.Minute)
	s := snapStore(t, 10, 24*time.Hour, &now)
	if err := s.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	want := fixtureData(t)
	for id, w := range want {
		p, ok := s.Get(id)
		if !ok {
			t.Fatalf("%s not restored", id)
		}
		if got := p.Snapshot(); got != w {
			t.Errorf("%s restored as\n%+v\nwant\n%+v", id, got, w)
		}
	}
	d0 := want["visitor-0"]
	if got, wantS := d0.Searches(), []string{"gift", "waterproof hiking boots for women"}; !slices.Equal(got, wantS) {
		t.Errorf("searches %q, want %q", got, wantS)
	}
	if c, ok := d0.LastClick(); ok {
		t.Errorf("a layout-1 profile has a last click: %+v", c)
	}
	if d0.Visits != 1 || len(d0.Recent()) != 3 || len(d0.Cart()) != 2 || d0.Source().UTMCampaign != "winter" {
		t.Errorf("visitor-0 restored without what it had: %d visits, recent %v, cart %v, source %+v", d0.Visits, d0.Recent(), d0.Cart(), d0.Source())
	}

	again := snapStore(t, 10, 24*time.Hour, &now)
	if err := again.ReadSnapshot(bufio.NewReader(bytes.NewReader(snapshotOf(t, s)))); err != nil {
		t.Fatalf("the upgraded store's snapshot: %v", err)
	}
	for id, w := range want {
		if p, ok := again.Get(id); !ok || p.Snapshot() != w {
			t.Errorf("%s differs after a snapshot in this build's layout", id)
		}
	}
}

// TestInstallLayout1: a profile the build of layout 1 wrote to the shared
// store installs as this build would have recorded it, and encodes again
// in this build's layout.
func TestInstallLayout1(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/layout-v1.profile")
	if err != nil {
		t.Fatal(err)
	}
	now := snapT0.Add(time.Minute)
	s := snapStore(t, 10, 24*time.Hour, &now)
	if err := s.Install("visitor-0", b, 1); err != nil {
		t.Fatalf("Install: %v", err)
	}
	p, ok := s.Get("visitor-0")
	if !ok {
		t.Fatal("not held after Install")
	}
	if got, want := p.Snapshot(), fixtureData(t)["visitor-0"]; got != want {
		t.Errorf("installed as\n%+v\nwant\n%+v", got, want)
	}
	again, _, _, _ := s.Encode("visitor-0", nil)
	if again[0] != profileVersion || len(again) != EncodedSize || binary.LittleEndian.Uint64(again[1:]) != layoutFingerprint {
		t.Errorf("encoded again as version %d, %d bytes", again[0], len(again))
	}
	if !bytes.Equal(again[9:13], b[9:13]) {
		t.Errorf("last seen %x, want %x", again[9:13], b[9:13])
	}
}
