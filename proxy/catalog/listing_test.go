package catalog

import (
	"slices"
	"testing"
)

// TestListing: a listing teaches the category path of the products it
// shows; a deeper path wins over a shallower one whichever came first, the
// latest of two as deep wins, and a product's own categories win over any
// listing.
func TestListing(t *testing.T) {
	t.Parallel()
	men, shirts, sale := KeyOf("/c/men"), KeyOf("/c/men/shirts"), KeyOf("/c/sale")
	polo, oxford := KeyOf("/p/polo"), KeyOf("/p/oxford")
	type put struct {
		path []ID
		keys []ID
	}
	for _, tt := range []struct {
		name string
		puts []put
		key  ID
		want []ID
	}{
		{"one listing", []put{{[]ID{men, shirts}, []ID{polo, oxford}}}, oxford, []ID{men, shirts}},
		{"never listed", []put{{[]ID{men, shirts}, []ID{polo}}}, oxford, nil},
		{"deeper first: the parent's listing does not override it",
			[]put{{[]ID{men, shirts}, []ID{polo}}, {[]ID{men}, []ID{polo}}}, polo, []ID{men, shirts}},
		{"parent first: the deeper listing wins",
			[]put{{[]ID{men}, []ID{polo}}, {[]ID{men, shirts}, []ID{polo}}}, polo, []ID{men, shirts}},
		{"as deep: the latest", []put{{[]ID{men}, []ID{polo}}, {[]ID{sale}, []ID{polo}}}, polo, []ID{sale}},
		{"a path beyond MaxListedDepth keeps its deepest levels",
			[]put{{[]ID{1, 2, 3, 4, 5, 6}, []ID{polo}}}, polo, []ID{3, 4, 5, 6}},
		{"no path teaches nothing", []put{{nil, []ID{polo}}}, polo, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := New(10)
			for i, p := range tt.puts {
				c.PutListing(p.path, p.keys, timeAt(i))
			}
			if got := c.Listed(tt.key, nil); !slices.Equal(got, tt.want) {
				t.Errorf("Listed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestListingBounds: a page teaches at most MaxListed products, and the
// table holds at most as many listed products as the catalog does
// products, the oldest making room.
func TestListingBounds(t *testing.T) {
	t.Parallel()
	c := New(1000)
	var keys []ID
	for i := range MaxListed + 20 {
		keys = append(keys, ID(i+1))
	}
	c.PutListing([]ID{7}, keys, timeAt(0))
	if got := c.Listings(); got != MaxListed {
		t.Errorf("one page taught %d products, want MaxListed (%d)", got, MaxListed)
	}
	small := New(50)
	for i := range 10 {
		var page []ID
		for j := range 20 {
			page = append(page, ID(1+i*20+j))
		}
		small.PutListing([]ID{7}, page, timeAt(i))
	}
	if got := small.Listings(); got != 50 {
		t.Errorf("%d products listed in a catalog of 50, want 50", got)
	}
	if got := small.Listed(200, nil); !slices.Equal(got, []ID{7}) {
		t.Errorf("the latest page's product was not kept: %v", got)
	}
}

// TestCategoriesOf: a product's own categories; else its listings', by
// its address; a product the catalog does not hold, by its identifier
// taken as an address.
func TestCategoriesOf(t *testing.T) {
	t.Parallel()
	c := New(10)
	shoes, boots, men := NewCategory("Shoes", "/c/shoes"), NewCategory("Boots", "/c/shoes/boots"), KeyOf("/c/men")
	c.Put(Product{ID: 1, Key: "B-1", SKU: "B-1", URL: "/p/boots", Categories: []Category{shoes, boots}}, timeAt(0))
	c.Put(Product{ID: 2, Key: "P-2", SKU: "P-2", URL: "https://shop.example/p/polo?colour=ivory"}, timeAt(0))
	c.PutListing([]ID{men}, []ID{KeyOf("/p/boots"), KeyOf("/p/polo"), KeyOf("/p/chinos")}, timeAt(1))
	for _, tt := range []struct {
		name  string
		id    ID
		ident string
		want  []ID
	}{
		{"its own win over a listing", 1, "", []ID{shoes.ID, boots.ID}},
		{"none of its own: its listing's", 2, "", []ID{men}},
		{"not held: its identifier as an address", 0, "/p/chinos/", []ID{men}},
		{"not held: kept by its address's ID", KeyOf("/p/chinos"), "", []ID{men}},
		{"not held, a SKU: nothing", 0, "C-3", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := c.CategoriesOf(tt.id, tt.ident, nil); !slices.Equal(got, tt.want) {
				t.Errorf("CategoriesOf(%d, %q) = %v, want %v", tt.id, tt.ident, got, tt.want)
			}
		})
	}
}
