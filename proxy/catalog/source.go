package catalog

// Source is the markup a product's field was read from.
type Source uint8

// Sources of a field.
const (
	SourceNone      Source = iota
	SourceJSONLD           // schema.org JSON-LD
	SourceMicrodata        // schema.org microdata
	SourceOpenGraph        // OpenGraph and product: meta tags
	SourcePage             // the page itself (its address, for a product's URL)
)

var sourceNames = [...]string{"", "jsonld", "microdata", "opengraph", "page"}

// String returns "jsonld", "microdata", "opengraph", "page", or "".
func (s Source) String() string {
	if int(s) >= len(sourceNames) {
		return ""
	}
	return sourceNames[s]
}

// Field names a product field whose source is kept.
type Field uint8

// Fields whose source is kept.
const (
	FieldName Field = iota
	FieldURL
	FieldImage
	FieldPrice
	FieldCurrency
	FieldAvailability
	FieldSKU
	FieldGTIN
	FieldBrand
	FieldCategories
	FieldRating
	NumFields
)

var fieldNames = [NumFields]string{"name", "url", "image", "price", "currency", "availability", "sku", "gtin", "brand", "categories", "rating"}

// String returns the field's JSON name ("price").
func (f Field) String() string {
	if f >= NumFields {
		return ""
	}
	return fieldNames[f]
}

// Sources holds the Source of every Field in one word: 3 bits a field.
type Sources uint64

const sourceBits = 3

// Of returns the source of field f.
func (s Sources) Of(f Field) Source {
	return Source(s >> (uint(f) * sourceBits) & (1<<sourceBits - 1))
}

func (s *Sources) set(f Field, src Source) {
	shift := uint(f) * sourceBits
	const mask = 1<<sourceBits - 1
	*s = *s&^(mask<<shift) | Sources(src&mask)<<shift
}
