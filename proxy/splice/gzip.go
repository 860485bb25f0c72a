package splice

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"shopedge/rewrite"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// A personalized page differs from the shop's only at its regions (menus,
// search results, blocks), so its gzip form is assembled from pieces: the
// unchanged stretches between sites, compressed once per page and kept
// with the page's analysis, and what each visitor gets at each site,
// compressed once per distinct content (or part of it) for every page.
// Each piece is a deflate
// stream ended by a sync flush (byte-aligned, not final); the last piece is
// final. Concatenated after a gzip header they form one valid deflate
// stream, as pigz does: a piece's back-references never reach outside it.

// Gzip is a page's unchanged pieces, compressed. What its visitors get is
// compressed through its Budget, which every page of a cache shares. It is
// safe for concurrent use.
type Gzip struct {
	size  int             // length of the decoded page
	spans []rewrite.Range // where the page may differ, in order and apart
	gaps  [][]byte        // gaps[i] precedes sites[i]; the last gap is final
	sites [][]byte        // each site as the shop sent it (empty for insertions)
	crcs  []uint32        // CRC-32 of each gap, then of each site
	// shifts are, in the same order, x^(8·len) modulo the CRC polynomial
	// for each gap's and site's length: what extending a CRC by that
	// piece's CRC multiplies by, computed once per page rather than per
	// visitor (the lengths never change).
	shifts []uint32
	budget *Budget // nil: nothing kept, every content compressed when asked
}

// Budget keeps the compressed contents visitors got, for every page of a
// cache, within max bytes: visitors share a few favourite categories and
// recommendations, and a shop's menu is the same on its every page, so
// most visitors cost no compression at all. When full it starts over,
// cheaper than tracking age: what is in use comes back within a few
// requests. It is safe for concurrent use.
type Budget struct {
	max   int64
	mu    sync.RWMutex
	m     map[string]kept // content → its deflate form, flushed
	bytes int64           // charged for m: keys, values and the map's share
	// seen holds a hash of contents sent once, stored, and not kept: a
	// content is compressed and kept the second time it comes, so that
	// what one visitor alone gets (an overlay of their cart, a tag with
	// this page's nonce) costs no deflate and never fills the budget and
	// makes it start over.
	seen [seenSlots]atomic.Uint64
}

// kept is a content's deflate form, at the level it was compressed at.
type kept struct {
	z     []byte
	level int
}

// seenSlots is how many contents seen once Budget remembers.
const seenSlots = 4096

// seed keys the hashes of contents seen once.
var seed = maphash.MakeSeed()

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used returns the bytes charged now.
func (b *Budget) Used() int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.bytes
}

// Max returns the budget's bound.
func (b *Budget) Max() int64 { return b.max }

// Clear forgets every content kept.
func (b *Budget) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m, b.bytes = nil, 0
}

// compressed returns content's deflate form (flushed, not final): kept
// from an earlier visitor of any page, or compressed now and kept if this
// content came before (see Budget.seen). The first time a content of at
// most maxStoredFirst bytes comes it returns nil, for the caller to send
// it stored (appendCompressed); a larger one is compressed and not kept.
// Without a budget, every content is compressed.
func (b *Budget) compressed(content []byte, level int) []byte {
	if b == nil {
		return deflatePiece(nil, content, level, false)
	}
	b.mu.RLock()
	k, ok := b.m[string(content)]
	b.mu.RUnlock()
	if ok && k.level == level {
		return k.z
	}
	h := maphash.Bytes(seed, content)
	tag := h | 1 // never 0, an empty slot
	if slot := &b.seen[(h>>1)%seenSlots]; slot.Swap(tag) != tag && !ok {
		// The first time: not kept.
		if len(content) <= maxStoredFirst {
			return nil
		}
		return deflatePiece(nil, content, level, false)
	}
	z := deflatePiece(nil, content, level, false)
	z = append(make([]byte, 0, len(z)), z...) // kept at its size, not its buffer's
	cost := int64(len(content) + len(z) + 64) // key, value and the map's share
	b.mu.Lock()
	defer b.mu.Unlock()
	if cost > b.max {
		return z
	}
	if old, dup := b.m[string(content)]; dup {
		b.bytes -= int64(len(content) + len(old.z) + 64)
	}
	if b.m == nil || b.bytes+cost > b.max {
		b.m, b.bytes = make(map[string]kept), 0
	}
	b.m[string(content)] = kept{z: z, level: level}
	b.bytes += cost
	return z
}

// gzipHeader is a minimal gzip member header: deflate, no name, no time,
// unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// partsLevel is the level of the pieces compressed once per page.
const partsLevel = 6

// flateWriters pools deflate writers by level (1-9): a new one costs
// hundreds of kilobytes.
var flateWriters [10]sync.Pool

// deflatePiece appends the deflate form of b to dst, flushed (final=false)
// or closed.
func deflatePiece(dst, b []byte, level int, final bool) []byte {
	level = min(max(level, 1), 9)
	buf := bytes.NewBuffer(dst)
	w, _ := flateWriters[level].Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(buf, level) // the level is in range: no error
	} else {
		w.Reset(buf)
	}
	_, _ = w.Write(b) // writes to a bytes.Buffer do not fail
	if final {
		_ = w.Close()
	} else {
		_ = w.Flush()
	}
	flateWriters[level].Put(w)
	return buf.Bytes()
}

// NewGzip compresses the unchanged parts of a decoded page, around spans
// (sorted and apart, as the page's analysis gives them); the pieces
// visitors get are kept within budget (nil: unbounded).
func NewGzip(body []byte, spans []rewrite.Range, budget *Budget) *Gzip {
	g := &Gzip{size: len(body), spans: slices.Clone(spans), budget: budget}
	pos := 0
	for _, s := range spans {
		gap := body[pos:s.Start]
		g.gaps = append(g.gaps, deflatePiece(nil, gap, partsLevel, false))
		g.crcs = append(g.crcs, crc32.ChecksumIEEE(gap))
		g.sites = append(g.sites, deflatePiece(nil, body[s.Start:s.End], partsLevel, false))
		pos = s.End
	}
	last := body[pos:]
	g.gaps = append(g.gaps, deflatePiece(nil, last, partsLevel, true))
	g.crcs = append(g.crcs, crc32.ChecksumIEEE(last))
	for _, s := range spans {
		g.crcs = append(g.crcs, crc32.ChecksumIEEE(body[s.Start:s.End]))
	}
	g.shifts = make([]uint32, 0, len(g.crcs))
	for i := range len(spans) + 1 {
		g.shifts = append(g.shifts, xPow8n(g.gapLen(i)))
	}
	for _, s := range spans {
		g.shifts = append(g.shifts, xPow8n(s.Len()))
	}
	return g
}

// Cost is what the compressed unchanged parts hold, in bytes.
func (g *Gzip) Cost() int64 {
	var n int64
	for _, b := range g.gaps {
		n += int64(len(b))
	}
	for _, b := range g.sites {
		n += int64(len(b))
	}
	return n
}

// Append appends the gzip form of the page with the given contents, one
// per span (nil: the shop's bytes), to dst.
func (g *Gzip) Append(dst []byte, contents [][]byte, level int) []byte {
	return g.AppendParts(dst, contents, nil, level)
}

// AppendParts is Append for contents made of parts rendered apart: cuts[i]
// (when cuts and it are not nil) are the offsets in contents[i] where a
// part ends and the next begins, as a recommendation block's head and
// each product's card. Each part is compressed once, the second time it
// comes (the first, it goes stored: see appendCompressed), and kept for
// every page and visitor (in the Budget), so that a block whose cards
// differ per visitor costs copies, not a deflate: a block of cards
// compresses a little worse apart than whole (each part's back-references
// stay within it), for ~10 µs less per page. A content without cuts is one
// part.
func (g *Gzip) AppendParts(dst []byte, contents [][]byte, cuts [][]int, level int) []byte {
	dst = append(dst, gzipHeader...)
	// The CRC runs over the page as it goes out: the shop's pieces are
	// appended by their CRC and precomputed shift (combine), the
	// visitor's by their bytes (crc32.Update, faster than a shift for
	// the few kilobytes a site holds).
	var crc uint32
	n := len(g.spans)
	size := g.size
	for i, s := range g.spans {
		dst = append(dst, g.gaps[i]...)
		crc = combine(crc, g.crcs[i], g.shifts[i])
		if contents[i] == nil {
			dst = append(dst, g.sites[i]...)
			crc = combine(crc, g.crcs[n+1+i], g.shifts[n+1+i])
			continue
		}
		switch b := contents[i]; {
		case len(b) <= maxStored:
			// Small and often different (a count, an amount): stored as
			// is, which costs a copy where compressing costs a deflate.
			dst = appendStored(dst, b)
		case i < len(cuts) && len(cuts[i]) > 0:
			dst = g.appendCut(dst, b, cuts[i], level)
		default:
			dst = g.appendCompressed(dst, b, level)
		}
		crc = crc32.Update(crc, crc32.IEEETable, contents[i])
		size += len(contents[i]) - s.Len()
	}
	dst = append(dst, g.gaps[n]...)
	crc = combine(crc, g.crcs[n], g.shifts[n])
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return binary.LittleEndian.AppendUint32(dst, uint32(size))
}

// appendCut appends content b as its parts, ending at cuts, each
// compressed once for every page (small ones stored).
func (g *Gzip) appendCut(dst, b []byte, cuts []int, level int) []byte {
	from := 0
	for k := 0; k <= len(cuts); k++ {
		to := len(b)
		if k < len(cuts) {
			to = min(max(cuts[k], from), len(b))
		}
		part := b[from:to]
		from = to
		switch {
		case len(part) == 0:
		case len(part) <= maxStoredPart:
			dst = appendStored(dst, part)
		default:
			dst = g.appendCompressed(dst, part, level)
		}
	}
	return dst
}

// appendCompressed appends content b compressed as the budget keeps it,
// or stored the first time b comes if it is small (maxStoredFirst): what
// one visitor alone gets (an overlay of their cart, a block head in their
// variant) would cost a deflate (on the load harness's gzip pages, 5% of
// the server's time, 2026-12-03) to save a few hundred bytes once; what
// comes again is compressed then, and kept.
func (g *Gzip) appendCompressed(dst, b []byte, level int) []byte {
	if z := g.budget.compressed(b, level); z != nil {
		return append(dst, z...)
	}
	for len(b) > maxStoredBlock {
		dst = appendStored(dst, b[:maxStoredBlock])
		b = b[maxStoredBlock:]
	}
	return appendStored(dst, b)
}

// maxStoredBlock is the most bytes one stored deflate block holds.
const maxStoredBlock = 65535

// maxStoredFirst is the largest content sent stored the first time it
// comes: a few kilobytes uncompressed cost the visitor less than the
// deflate costs the proxy; a larger one (a long menu, a results list in
// the visitor's order) is compressed, and kept only if it comes again.
const maxStoredFirst = 4 << 10

// maxStoredPart is the largest part of a content sent stored rather than
// compressed: a block's end tags, the stylesheet's tag with this page's
// nonce (~100 bytes, different on every page: not worth a deflate).
const maxStoredPart = 128

// maxStored is the largest site content sent in a stored (uncompressed)
// deflate block rather than compressed.
const maxStored = 1024

// appendStored appends b as one non-final stored deflate block, byte
// aligned: the header byte (not final, type 00, padding), LEN and NLEN,
// then the bytes. len(b) must be at most 65535.
func appendStored(dst, b []byte) []byte {
	n := uint16(len(b))
	dst = append(dst, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	return append(dst, b...)
}

// gapLen is the length of the unchanged stretch before span i (or after
// the last one, for i == len(spans)).
func (g *Gzip) gapLen(i int) int {
	start := 0
	if i > 0 {
		start = g.spans[i-1].End
	}
	end := g.size
	if i < len(g.spans) {
		end = g.spans[i].Start
	}
	return end - start
}
