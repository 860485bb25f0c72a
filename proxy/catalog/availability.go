package catalog

import (
	"strings"
)

// Availability is a product's availability, in schema.org's terms
// (https://schema.org/ItemAvailability). The zero value is unknown.
type Availability uint8

// Availabilities, from the most to the least buyable; when a product has
// several offers, the most buyable wins (Better).
const (
	AvailabilityUnknown Availability = iota
	InStock
	LimitedAvailability
	OnlineOnly
	InStoreOnly
	PreOrder
	PreSale
	BackOrder
	MadeToOrder
	Reserved
	OutOfStock
	SoldOut
	Discontinued
	numAvailabilities
)

var availabilityNames = [numAvailabilities]string{
	"", "InStock", "LimitedAvailability", "OnlineOnly", "InStoreOnly", "PreOrder", "PreSale",
	"BackOrder", "MadeToOrder", "Reserved", "OutOfStock", "SoldOut", "Discontinued",
}

// String returns the schema.org name ("InStock"), or "" when unknown.
func (a Availability) String() string {
	if a >= numAvailabilities {
		return ""
	}
	return availabilityNames[a]
}

// MarshalText writes the schema.org name, "" when unknown.
func (a Availability) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Offerable reports whether a product of this availability may be offered
// to visitors: anything but out of stock, sold out or discontinued.
// Unknown is offerable: a shop that does not mark availability up still
// wants its products recommended, and a page that says nothing is more
// often in stock than not.
func (a Availability) Offerable() bool {
	switch a {
	case OutOfStock, SoldOut, Discontinued:
		return false
	}
	return true
}

// Available reports whether a can be bought now (in stock, perhaps only
// online, in store or in limited numbers).
func (a Availability) Available() bool {
	switch a {
	case InStock, LimitedAvailability, OnlineOnly, InStoreOnly:
		return true
	}
	return false
}

// Better returns the more buyable of a and b; a known availability is
// better than an unknown one.
func Better(a, b Availability) Availability {
	switch {
	case a == AvailabilityUnknown:
		return b
	case b == AvailabilityUnknown:
		return a
	case b < a:
		return b
	}
	return a
}

// availabilityWords maps what shops write, lowercased without spaces,
// dashes and underscores, to an availability: schema.org's names, the
// OpenGraph and Google Merchant values, and common words of shops.
var availabilityWords = map[string]Availability{
	"instock": InStock, "available": InStock, "availablenow": InStock,
	"notsold": InStock, // classified ads: "NOT SOLD" means still for sale
	"enstock": InStock, "disponible": InStock, "disponibile": InStock, "lieferbar": InStock,
	"verfügbar": InStock, "auflager": InStock, "sofortlieferbar": InStock,
	"limitedavailability": LimitedAvailability, "limitedstock": LimitedAvailability, "lowstock": LimitedAvailability,
	"onlineonly": OnlineOnly, "instoreonly": InStoreOnly,
	"preorder": PreOrder, "presale": PreSale, "backorder": BackOrder, "backordered": BackOrder,
	"madetoorder": MadeToOrder, "reserved": Reserved,
	"outofstock": OutOfStock, "oos": OutOfStock, "nostock": OutOfStock, "notinstock": OutOfStock,
	"unavailable": OutOfStock, "notavailable": OutOfStock,
	"indisponible": OutOfStock, "nondisponible": OutOfStock, "nichtlieferbar": OutOfStock,
	"nichtverfügbar": OutOfStock, "ausverkauft": OutOfStock, "épuisé": OutOfStock, "esaurito": OutOfStock,
	"soldout": SoldOut, "sold": SoldOut, "discontinued": Discontinued,
}

// ParseAvailability reads an availability as shops write it: schema.org
// URLs (http or https, "schema:InStock"), bare names ("InStock"), and the
// words of OpenGraph, Google Merchant and shops ("in stock", "in_stock",
// "SoldOut", "NOT SOLD", "PreOrder"). Anything else is unknown, never in
// stock.
func ParseAvailability(s string) Availability {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "/#:"); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	if len(s) > 40 {
		return AvailabilityUnknown
	}
	var b [40]byte
	k := b[:0]
	for _, c := range []byte(s) {
		switch {
		case c == ' ' || c == '_' || c == '-' || c == '.' || c == '\t':
		case 'A' <= c && c <= 'Z':
			k = append(k, c+'a'-'A')
		default:
			k = append(k, c)
		}
	}
	if a, ok := availabilityWords[string(k)]; ok {
		return a
	}
	if a, ok := availabilityWords[strings.ToLower(string(k))]; ok { // "ÉPUISÉ"
		return a
	}
	return AvailabilityUnknown
}
