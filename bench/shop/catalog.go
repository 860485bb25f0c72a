package shop

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode"
)

// Category is one category of the demo shop.
type Category struct {
	Slug     string // "women" or "women/dresses"
	Name     string
	Parent   *Category
	Children []*Category
	Products []*Product // in this category and its children
}

// URL returns the category page's path.
func (c *Category) URL() string { return "/c/" + c.Slug }

// Path returns the category and its ancestors, outermost first.
func (c *Category) Path() []*Category {
	var p []*Category
	for x := c; x != nil; x = x.Parent {
		p = append([]*Category{x}, p...)
	}
	return p
}

// Product is one product of the demo shop.
type Product struct {
	SKU         string
	Slug        string
	Name        string
	Brand       string
	Price       float64
	OldPrice    float64 // before a sale, or 0
	InStock     bool
	Rating      float64 // the average of its reviews, 3.0 to 5.0; 0 without reviews
	Reviews     int     // how many reviews; 0 for about three products in ten
	Color       string
	Description []string // paragraphs
	Category    *Category
}

// URL returns the product page's path.
func (p *Product) URL() string { return "/p/" + p.Slug }

// Image returns the product image's path.
func (p *Product) Image() string { return "/img/" + p.SKU + ".svg" }

// PriceText formats the price.
func (p *Product) PriceText() string { return fmt.Sprintf("%.2f", p.Price) }

// Catalog is the demo shop's generated catalog.
type Catalog struct {
	Top        []*Category // the main navigation, in the shop's order
	Categories map[string]*Category
	Products   []*Product
	BySKU      map[string]*Product
	BySlug     map[string]*Product
}

var tree = []struct {
	name string
	subs []string
}{
	{"Women", []string{"Dresses", "Tops", "Jeans", "Knitwear"}},
	{"Men", []string{"Shirts", "Trousers", "Jackets"}},
	{"Kids", nil},
	{"Shoes", []string{"Sneakers", "Boots", "Sandals"}},
	{"Bags & Accessories", nil},
	{"Home & Living", []string{"Kitchen", "Bedding", "Lighting"}},
	{"Beauty", nil},
	{"Sports & Outdoor", nil},
	{"Electronics", nil},
	{"Sale", nil},
}

// categoryNouns returns the product nouns of each leaf category. A
// function, not a package-level map, so that the package does no work when
// a program that links it starts.
func categoryNouns() map[string][]string {
	return map[string][]string{
		"Dresses":            {"Wrap Dress", "Midi Dress", "Shirt Dress", "Slip Dress", "Maxi Dress"},
		"Tops":               {"Blouse", "T-Shirt", "Tank Top", "Tunic", "Camisole"},
		"Jeans":              {"Slim Jeans", "Mom Jeans", "Wide-Leg Jeans", "Bootcut Jeans"},
		"Knitwear":           {"Cardigan", "Jumper", "Turtleneck", "Knitted Vest"},
		"Shirts":             {"Oxford Shirt", "Linen Shirt", "Flannel Shirt", "Polo Shirt"},
		"Trousers":           {"Chinos", "Cargo Trousers", "Suit Trousers", "Joggers"},
		"Jackets":            {"Bomber Jacket", "Rain Jacket", "Denim Jacket", "Puffer Jacket", "Blazer"},
		"Kids":               {"Kids Hoodie", "Baby Bodysuit", "Kids Raincoat", "Pyjama Set", "Kids Sneakers"},
		"Sneakers":           {"Running Sneakers", "Court Sneakers", "High-Top Sneakers", "Slip-On Sneakers"},
		"Boots":              {"Chelsea Boots", "Hiking Boots", "Ankle Boots", "Rain Boots"},
		"Sandals":            {"Slide Sandals", "Strappy Sandals", "Sport Sandals"},
		"Bags & Accessories": {"Tote Bag", "Backpack", "Leather Belt", "Wool Scarf", "Crossbody Bag", "Sunglasses"},
		"Kitchen":            {"Chef's Knife", "Cast Iron Pan", "Espresso Cups", "Cutting Board"},
		"Bedding":            {"Duvet Cover", "Linen Sheets", "Pillowcase Set", "Throw Blanket"},
		"Lighting":           {"Table Lamp", "Pendant Light", "Floor Lamp", "String Lights"},
		"Beauty":             {"Face Cream", "Lip Balm", "Hair Oil", "Eau de Parfum", "Body Lotion"},
		"Sports & Outdoor":   {"Yoga Mat", "Water Bottle", "Trail Shorts", "Tent", "Cycling Gloves"},
		"Electronics":        {"Wireless Earbuds", "Smart Speaker", "Phone Charger", "Fitness Tracker", "E-Reader"},
	}
}

var (
	adjectives = []string{"Classic", "Organic", "Everyday", "Premium", "Recycled", "Lightweight", "Vintage", "Essential", "Relaxed", "Tailored", "Soft", "Heritage"}
	colors     = []string{"Black", "Navy", "Ivory", "Olive", "Rust", "Sand", "Grey", "Forest Green", "Burgundy", "Sky Blue"}
	brands     = []string{"Northwind", "Atelier Nova", "Fjell & Co", "Maison Lune", "Urban Thread", "Kestrel", "Oakridge", "Salt & Pine"}
	sentences  = []string{
		"Made to be worn and loved for years, it pairs easily with everything already in your wardrobe.",
		"We source our materials from mills that share our standards for fair work and low impact.",
		"The cut was refined over three seasons of feedback from customers like you.",
		"Machine washable at 30°C; dry flat to keep the shape.",
		"Every piece is checked by hand before it leaves our warehouse.",
		"Designed in our studio & made in small batches, so stock is limited.",
		"A quiet favourite of our team, and the piece we reach for on busy mornings.",
		"Free returns within 30 days: if it isn't right, send it back.",
		"Thoughtful details, like reinforced seams and a softly brushed finish, make the difference.",
		"Ships in recycled packaging with a plastic-free label.",
	}
)

// NewCatalog generates the demo catalog. The same seed gives the same
// catalog, so tests and benchmarks can rely on it.
func NewCatalog(seed uint64) *Catalog {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &Catalog{Categories: map[string]*Category{}, BySKU: map[string]*Product{}, BySlug: map[string]*Product{}}
	for _, t := range tree {
		top := &Category{Slug: slugify(t.name), Name: t.name}
		c.Top = append(c.Top, top)
		c.Categories[top.Slug] = top
		for _, s := range t.subs {
			sub := &Category{Slug: top.Slug + "/" + slugify(s), Name: s, Parent: top}
			top.Children = append(top.Children, sub)
			c.Categories[sub.Slug] = sub
		}
	}
	nouns := categoryNouns()
	sku := 10000
	for _, top := range c.Top {
		leaves := top.Children
		if len(leaves) == 0 {
			leaves = []*Category{top}
		}
		for _, leaf := range leaves {
			ns := nouns[leaf.Name]
			if top.Name == "Sale" {
				continue
			}
			n := 12 + r.IntN(14)
			if len(leaves) == 1 {
				n += 18
			}
			for range n {
				sku++
				p := &Product{
					SKU:      fmt.Sprintf("SE-%d", sku),
					Brand:    brands[r.IntN(len(brands))],
					Color:    colors[r.IntN(len(colors))],
					InStock:  r.IntN(10) != 0,
					Rating:   float64(30+r.IntN(21)) / 10,
					Reviews:  r.IntN(400),
					Category: leaf,
				}
				p.Name = fmt.Sprintf("%s %s %s", adjectives[r.IntN(len(adjectives))], p.Color, ns[r.IntN(len(ns))])
				p.Price = float64(5+r.IntN(240)) - 0.01
				if r.IntN(6) == 0 {
					p.OldPrice = p.Price + float64(5+r.IntN(40))
				}
				p.Slug = slugify(p.Name) + "-" + strings.ToLower(p.SKU)
				if !reviewed(p.SKU) || p.Reviews == 0 {
					// Not every product has been reviewed yet: such a
					// product shows no rating, and its JSON-LD gives none.
					p.Rating, p.Reviews = 0, 0
				}
				for range 3 + r.IntN(3) {
					var para []string
					for range 2 + r.IntN(3) {
						para = append(para, sentences[r.IntN(len(sentences))])
					}
					p.Description = append(p.Description, strings.Join(para, " "))
				}
				c.Products = append(c.Products, p)
				c.BySKU[p.SKU] = p
				c.BySlug[p.Slug] = p
				for x := leaf; x != nil; x = x.Parent {
					x.Products = append(x.Products, p)
				}
			}
		}
	}
	sale := c.Categories["sale"]
	for _, p := range c.Products {
		if p.OldPrice > 0 {
			sale.Products = append(sale.Products, p)
		}
	}
	return c
}

// reviewed reports whether the product of this SKU has reviews: about
// seven in ten. It hashes the SKU rather than drawing from the catalog's
// random source, so that every other product is generated as before.
func reviewed(sku string) bool {
	h := fnv.New32a()
	h.Write([]byte(sku))
	return h.Sum32()%10 >= 3
}

// Search returns the products whose name, brand, category or colour
// contains every word of q, best rated first. As shop search engines do,
// a plural finds the singular too ("shirts" finds a Shirt Dress, as a
// whole word), and a colour finds its shades ("white" finds Ivory).
func (c *Catalog) Search(q string) []*Product {
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return nil
	}
	var out []*Product
	for _, p := range c.Products {
		hay := strings.ToLower(p.Name + " " + p.Brand + " " + p.Category.Name + " " + colourFamily(p.Color))
		all := true
		for _, w := range words {
			if !strings.Contains(hay, w) && !hasSingular(hay, w) {
				all = false
				break
			}
		}
		if all {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rating > out[j].Rating })
	return out
}

// colourFamily is the colour a shade is searched by too, as shops' colour
// filters group them; "" when its name says it.
func colourFamily(shade string) string {
	switch shade {
	case "Ivory":
		return "white"
	case "Navy":
		return "blue"
	case "Olive":
		return "green"
	case "Burgundy", "Rust":
		return "red"
	case "Sand":
		return "beige"
	}
	return ""
}

// hasSingular reports whether w is a plural whose singular is a whole
// word of hay (words are runs of letters and digits).
func hasSingular(hay, w string) bool {
	if len(w) < 4 || !strings.HasSuffix(w, "s") {
		return false
	}
	one := w[:len(w)-1]
	for _, word := range strings.FieldsFunc(hay, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if word == one {
			return true
		}
	}
	return false
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '\'':
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
