package catalog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// ErrSnapshot is wrapped by every error of ReadSnapshot: the stream is
// truncated, corrupt, of another format, or beyond the bounds.
var ErrSnapshot = errors.New("catalog: bad snapshot")

// ErrProduct is wrapped by every error of DecodeProduct: the bytes are
// truncated, corrupt, beyond the bounds, or followed by more.
var ErrProduct = errors.New("catalog: bad product")

// The snapshot format, field by field (a Product holds strings):
//
//	format    byte    snapshotFormat (2; a format 1 snapshot, written
//	          before products had extensions, reads the same way)
//	products  uvarint n (at most maxSnapshotProducts), then n products
//	product   8 bytes ID (little endian); strings Key, SKU, GTIN, Name, URL,
//	          Image, Currency, Brand; 8 bytes Price (IEEE 754 bits);
//	          byte Availability; 4 bytes sources word; varint SeenAt's unix
//	          seconds, uvarint its nanoseconds; uvarint categories (at most
//	          maxListed), each a category; uvarint aliases (at most
//	          maxListed), each a string; then, only when the sources word
//	          has bit 31 set, the product's extensions
//	sources   bits 0-29: the Sources of the fields before FieldRating, 3
//	          bits each; bit 30 unused (0); bit 31: extensions follow
//	extensions uvarint n (1 to maxExtensions), then n of: byte tag,
//	          uvarint length (at most maxExtension), that many bytes.
//	          A reader skips a tag it does not know (one a later version
//	          added)
//	rating    tag extRating: 8 bytes Value, 8 bytes Best, 8 bytes Worst
//	          (IEEE 754 bits); uvarint Count; byte flags (bit 0: Reviews);
//	          byte the Source of FieldRating. Present only for a product
//	          with a rating, which must be Valid
//	categories uvarint n (at most maxSnapshotProducts), then n categories:
//	          every category seen, also those of products since evicted
//	category  8 bytes ID; strings Name, Path
//	string    uvarint length (at most maxString), then its bytes
//
// Products carry no version: a product written before extensions (bit 31
// clear, as every earlier writer left it) decodes as it always did, with
// no rating. The extension flag sits in the sources word, not after the
// product, so that a product whose extensions were cut off is refused
// rather than read as one without them.
const (
	snapshotFormat      = 2
	maxSnapshotProducts = 1 << 24
	maxListed           = 256     // categories or aliases of a product
	maxString           = 1 << 16 // bytes of a string
	maxExtensions       = 16      // extensions of a product
	maxExtension        = 1 << 10 // bytes of one extension

	// The sources word.
	sourcesWordMask = 1<<(uint(FieldRating)*sourceBits) - 1 // the Sources it holds
	sourcesExtended = 1 << 31                               // extensions follow

	extRating = 1 // the tag of a product's Rating
)

// WriteSnapshot writes every product the catalog holds (with its aliases,
// availability and when it was seen) and every category seen to w. It
// holds the catalog's read lock only to list them (a stored product is
// never changed). w should be buffered.
func (c *Catalog) WriteSnapshot(w io.Writer) error {
	c.mu.RLock()
	products := make([]*Product, 0, len(c.products))
	for _, p := range c.products {
		products = append(products, p)
	}
	cats := make([]Category, 0, len(c.cats))
	for _, cat := range c.cats {
		cats = append(cats, cat)
	}
	c.mu.RUnlock()
	buf := []byte{snapshotFormat}
	buf = binary.AppendUvarint(buf, uint64(len(products)))
	for _, p := range products {
		buf = AppendProduct(buf, p)
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("catalog: write snapshot: %w", err)
			}
			buf = buf[:0]
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(cats)))
	for _, cat := range cats {
		buf = appendCategory(buf, cat)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("catalog: write snapshot: %w", err)
	}
	return nil
}

// AppendProduct appends p as the snapshot writes a product (see the
// format above: its texts clipped to maxString bytes, its categories and
// aliases to maxListed) to b; DecodeProduct reads it back.
func AppendProduct(b []byte, p *Product) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(p.ID))
	for _, s := range [...]string{p.Key, p.SKU, p.GTIN, p.Name, p.URL, p.Image, p.Currency, p.Brand} {
		b = appendString(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Price))
	b = append(b, byte(p.Availability))
	word := uint32(p.Sources & sourcesWordMask)
	rated := p.Rating.Valid()
	if rated {
		word |= sourcesExtended
	}
	b = binary.LittleEndian.AppendUint32(b, word)
	b = binary.AppendVarint(b, p.SeenAt.Unix())
	b = binary.AppendUvarint(b, uint64(p.SeenAt.Nanosecond()))
	cats := p.Categories[:min(len(p.Categories), maxListed)]
	b = binary.AppendUvarint(b, uint64(len(cats)))
	for _, cat := range cats {
		b = appendCategory(b, cat)
	}
	aliases := p.aliases[:min(len(p.aliases), maxListed)]
	b = binary.AppendUvarint(b, uint64(len(aliases)))
	for _, a := range aliases {
		b = appendString(b, a)
	}
	if rated {
		b = binary.AppendUvarint(b, 1)
		b = appendRating(b, p.Rating, p.Sources.Of(FieldRating))
	}
	return b
}

// appendRating appends the rating extension.
func appendRating(b []byte, r Rating, src Source) []byte {
	var e [8*3 + binary.MaxVarintLen64 + 2]byte
	v := binary.LittleEndian.AppendUint64(e[:0], math.Float64bits(r.Value))
	v = binary.LittleEndian.AppendUint64(v, math.Float64bits(r.Best))
	v = binary.LittleEndian.AppendUint64(v, math.Float64bits(r.Worst))
	v = binary.AppendUvarint(v, uint64(r.Count))
	var flags byte
	if r.Reviews {
		flags = 1
	}
	v = append(v, flags, byte(src))
	b = append(b, extRating)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendCategory(b []byte, cat Category) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(cat.ID))
	b = appendString(b, cat.Name)
	return appendString(b, cat.Path)
}

func appendString(b []byte, s string) []byte {
	s = s[:min(len(s), maxString)]
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ReadSnapshot replaces the catalog's products and categories with those
// read from r, which WriteSnapshot wrote, reading exactly what it wrote
// and no further. When the snapshot holds more products than the catalog's
// bound, the least recently seen of a few sampled make room, as Put does.
// On any error (a truncated or corrupt stream, another format, a count or
// length beyond the bounds) it returns an error wrapping ErrSnapshot and
// the catalog is left as it was.
func (c *Catalog) ReadSnapshot(r *bufio.Reader) error {
	format, err := r.ReadByte()
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrSnapshot, noEOF(err))
	}
	if format != snapshotFormat && format != 1 {
		return fmt.Errorf("%w: format %d, want 1 or %d", ErrSnapshot, format, snapshotFormat)
	}
	c.mu.RLock()
	limit := c.max
	c.mu.RUnlock()
	tmp := New(limit)
	sr := snapReader{r: r, bad: ErrSnapshot}
	n := sr.count(maxSnapshotProducts, "products")
	for i := uint64(0); i < n && sr.err == nil; i++ {
		p := sr.product()
		if sr.err != nil {
			break
		}
		if _, ok := tmp.products[p.ID]; !ok && len(tmp.products) >= tmp.max {
			tmp.evictLocked()
		}
		tmp.products[p.ID] = p
		for _, a := range p.aliasKeys() {
			tmp.aliases[a] = p.ID
		}
		for _, cat := range p.Categories {
			tmp.cats[cat.ID] = cat
		}
	}
	n = sr.count(maxSnapshotProducts, "categories")
	for i := uint64(0); i < n && sr.err == nil; i++ {
		if cat := sr.category(); sr.err == nil {
			tmp.cats[cat.ID] = cat
		}
	}
	if sr.err != nil {
		return sr.err
	}
	c.mu.Lock()
	c.products, c.aliases, c.cats = tmp.products, tmp.aliases, tmp.cats
	c.mu.Unlock()
	return nil
}

// DecodeProduct reads a product AppendProduct wrote, all of b and nothing
// more, within the snapshot's bounds. Errors wrap ErrProduct.
func DecodeProduct(b []byte) (Product, error) {
	r := bytes.NewReader(b)
	sr := snapReader{r: r, bad: ErrProduct}
	p := sr.product()
	if sr.err != nil {
		return Product{}, sr.err
	}
	if r.Len() != 0 {
		return Product{}, fmt.Errorf("%w: %d bytes after the product", ErrProduct, r.Len())
	}
	return *p, nil
}

// byteReader is what a snapReader reads from: the snapshot's buffered
// stream, or one product's bytes.
type byteReader interface {
	io.Reader
	io.ByteReader
}

// snapReader reads a snapshot or a product, keeping the first error,
// which wraps bad.
type snapReader struct {
	r   byteReader
	bad error
	err error
}

func (sr *snapReader) fail(what string, err error) {
	if sr.err == nil {
		sr.err = fmt.Errorf("%w: %s: %w", sr.bad, what, noEOF(err))
	}
}

func (sr *snapReader) uvarint(limit uint64, what string) uint64 {
	if sr.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(sr.r)
	if err != nil {
		sr.fail(what, err)
		return 0
	}
	if v > limit {
		sr.fail(what, fmt.Errorf("%d beyond %d", v, limit))
		return 0
	}
	return v
}

func (sr *snapReader) count(limit uint64, what string) uint64 { return sr.uvarint(limit, what) }

func (sr *snapReader) fixed(n int, what string) []byte {
	if sr.err != nil {
		return nil
	}
	var b [8]byte
	if _, err := io.ReadFull(sr.r, b[:n]); err != nil {
		sr.fail(what, err)
		return nil
	}
	return b[:n]
}

func (sr *snapReader) u64(what string) uint64 {
	if b := sr.fixed(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (sr *snapReader) string(what string) string {
	n := sr.uvarint(maxString, what)
	if sr.err != nil || n == 0 {
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(sr.r, b); err != nil {
		sr.fail(what, err)
		return ""
	}
	return string(b)
}

func (sr *snapReader) category() Category {
	var cat Category
	cat.ID = ID(sr.u64("category id"))
	cat.Name = sr.string("category name")
	cat.Path = sr.string("category path")
	return cat
}

func (sr *snapReader) product() *Product {
	p := &Product{ID: ID(sr.u64("product id"))}
	for _, f := range [...]*string{&p.Key, &p.SKU, &p.GTIN, &p.Name, &p.URL, &p.Image, &p.Currency, &p.Brand} {
		*f = sr.string("product text")
	}
	p.Price = math.Float64frombits(sr.u64("price"))
	if b := sr.fixed(1, "availability"); b != nil {
		if p.Availability = Availability(b[0]); p.Availability >= numAvailabilities {
			sr.fail("availability", fmt.Errorf("unknown %d", b[0]))
		}
	}
	var extended bool
	if b := sr.fixed(4, "sources"); b != nil {
		word := binary.LittleEndian.Uint32(b)
		if word&^(sourcesWordMask|sourcesExtended) != 0 {
			sr.fail("sources", fmt.Errorf("unknown bits %#x", word))
		}
		p.Sources = Sources(word & sourcesWordMask)
		extended = word&sourcesExtended != 0
	}
	if sr.err != nil {
		return nil
	}
	sec, err := binary.ReadVarint(sr.r)
	if err != nil {
		sr.fail("seen at", err)
		return nil
	}
	nsec := sr.uvarint(999_999_999, "seen at")
	p.SeenAt = time.Unix(sec, int64(nsec))
	if n := sr.count(maxListed, "categories of a product"); n > 0 {
		p.Categories = make([]Category, 0, n)
		for range n {
			p.Categories = append(p.Categories, sr.category())
		}
	}
	if n := sr.count(maxListed, "aliases"); n > 0 {
		p.aliases = make([]string, 0, n)
		for range n {
			p.aliases = append(p.aliases, sr.string("alias"))
		}
	}
	if extended {
		sr.extensions(p)
	}
	if sr.err != nil {
		return nil
	}
	return p
}

// extensions reads a product's extensions into p: the rating, and past
// any tag a later version added.
func (sr *snapReader) extensions(p *Product) {
	n := sr.count(maxExtensions, "extensions")
	if sr.err == nil && n == 0 {
		sr.fail("extensions", errors.New("none, though the product says they follow"))
	}
	for range n {
		tag := sr.fixed(1, "extension tag")
		size := sr.uvarint(maxExtension, "extension length")
		if sr.err != nil {
			return
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(sr.r, b); err != nil {
			sr.fail("extension", err)
			return
		}
		if tag[0] != extRating {
			continue
		}
		r, src, err := decodeRating(b)
		if err != nil {
			sr.fail("rating", err)
			return
		}
		p.Rating = r
		p.Sources.set(FieldRating, src)
	}
}

// decodeRating reads what appendRating wrote, all of b: a rating Valid
// accepts, from a known source (or none, for a product made by hand).
func decodeRating(b []byte) (Rating, Source, error) {
	if len(b) < 8*3+1+2 {
		return Rating{}, 0, fmt.Errorf("%d bytes, too short", len(b))
	}
	var r Rating
	r.Value = math.Float64frombits(binary.LittleEndian.Uint64(b))
	r.Best = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	r.Worst = math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))
	count, n := binary.Uvarint(b[24:])
	if n <= 0 || count > maxRatingCount {
		return Rating{}, 0, errors.New("bad count")
	}
	r.Count = uint32(count)
	rest := b[24+n:]
	if len(rest) != 2 {
		return Rating{}, 0, fmt.Errorf("%d bytes of flags and source, want 2", len(rest))
	}
	if rest[0]&^1 != 0 {
		return Rating{}, 0, fmt.Errorf("unknown flags %#x", rest[0])
	}
	r.Reviews = rest[0]&1 != 0
	src := Source(rest[1])
	if int(src) >= len(sourceNames) {
		return Rating{}, 0, fmt.Errorf("unknown source %d", src)
	}
	if !r.Valid() {
		return Rating{}, 0, fmt.Errorf("not a rating to show: %v of %v to %v, %d counted", r.Value, r.Worst, r.Best, r.Count)
	}
	return r, src, nil
}

// noEOF turns the end of the stream, where more was due, into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
