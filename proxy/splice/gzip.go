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
	max int64
	// front holds contents of m as visitors ask for them, for a lookup
	// with no lock: a hash of the content, two atomic loads and a
	// comparison, where a lookup in m costs a RWMutex's two atomic adds
	// on a word every request shares and the map's probe (on the load
	// harness's gzip pages, a third of AppendParts, 2026-12-03). m stays
	// what is kept: a content pushed out of the front costs a lookup in
	// m, never a deflate. nil with m.
	front atomic.Pointer[keptFront]
	mu    sync.RWMutex
	m     map[uint64]*kept // by the content's hash (seed)
	bytes int64            // charged for m: see kept.cost
	// seen holds a hash of contents sent once, stored, and not kept: a
	// content is compressed and kept the second time it comes, so that
	// what one visitor alone gets (an overlay of their cart, a tag with
	// this page's nonce) costs no deflate and never fills the budget and
	// makes it start over.
	seen [seenSlots]atomic.Uint64
}

// keptFront is a table of entries of a budget's map: each in one of the
// two slots (a pair 2k, 2k+1) its hash chooses, the one asked for last
// first. It holds only entries of the map it goes with, so that what it
// holds is charged to the budget. It has a slot for every 512 bytes of
// the budget (a kept part costs ~600), set aside from the budget.
type keptFront struct {
	slots []atomic.Pointer[kept]
	shift uint // 64 - log2(len(slots)): a hash's top bits choose its pair
}

// frontSlots is how many slots the front of a budget of max bytes has: a
// power of two, 16 to 1<<20.
func frontSlots(max int64) (n int, bits uint) {
	n, bits = 16, 4
	for n < 1<<20 && int64(n)*512 < max {
		n, bits = n<<1, bits+1
	}
	return n, bits
}

func newKeptFront(max int64) *keptFront {
	n, bits := frontSlots(max)
	return &keptFront{slots: make([]atomic.Pointer[kept], n), shift: 64 - bits}
}

// place is the first of the two slots a content of hash h may take.
func (f *keptFront) place(h uint64) int { return int(h>>f.shift) &^ 1 }

// find returns the entry of content, of hash h, or nil.
func (f *keptFront) find(content []byte, h uint64) *kept {
	if f == nil {
		return nil
	}
	i := f.place(h)
	for j := i; j < i+2; j++ {
		if k := f.slots[j].Load(); k != nil && k.is(content, h) {
			return k
		}
	}
	return nil
}

// put makes k the first of its pair, the first before it the second.
// Only with the budget's lock held (read or write), so that k is in the
// map the front goes with; concurrent puts may leave either of two
// entries in a slot, each of them in the map.
func (f *keptFront) put(k *kept) {
	i := f.place(k.hash)
	first, second := &f.slots[i], &f.slots[i+1]
	if p := first.Load(); p != k {
		second.Store(p)
		first.Store(k)
	}
}

// drop takes k out of the front, with the budget's write lock held.
func (f *keptFront) drop(k *kept) {
	i := f.place(k.hash)
	for j := i; j < i+2; j++ {
		if f.slots[j].Load() == k {
			f.slots[j].Store(nil)
		}
	}
}

// kept is a content and its deflate form, at the level it was compressed
// at, in one buffer; never changed once kept.
type kept struct {
	hash  uint64
	level int
	n     int    // the content's length
	b     []byte // the content, then its deflate form
	// crc and shift are the content's CRC-32 and x^(8·n) (see combine):
	// a page's CRC takes a kept part in ~10 ns rather than a pass over
	// its bytes.
	crc, shift uint32
}

func (k *kept) is(content []byte, h uint64) bool {
	return k.hash == h && bytes.Equal(k.b[:k.n], content)
}

// z is the kept content's deflate form (its capacity its length).
func (k *kept) z() []byte { return k.b[k.n:] }

// cost is what k is charged: its bytes and keptShare.
func (k *kept) cost() int64 { return int64(len(k.b)) + keptShare }

// keptShare is what an entry costs beside its bytes: the kept struct (64
// bytes allocated), its share of the map (up to ~40 bytes just after the
// map has grown) and of the allocator's rounding of its buffer.
const keptShare = 112

// seenSlots is how many contents seen once Budget remembers.
const seenSlots = 4096

// seed keys the hashes of contents, random for each process, so that no
// one can craft contents (say, a swap that echoes a search) that take
// the slots of the cards every visitor gets.
var seed = maphash.MakeSeed()

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used returns the bytes charged now: the contents kept and, while any
// is, the front's slots.
func (b *Budget) Used() int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.m == nil {
		return 0
	}
	return b.bytes + frontSize(b.max)
}

// frontSize is what the front's slots of a budget of max bytes hold, set
// aside from max for the contents.
func frontSize(max int64) int64 {
	n, _ := frontSlots(max)
	return int64(n) * 8
}

// Max returns the budget's bound.
func (b *Budget) Max() int64 { return b.max }

// Clear forgets every content kept.
func (b *Budget) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m, b.bytes = nil, 0
	b.front.Store(nil)
}

// compressed returns content's deflate form (flushed, not final): kept
// from an earlier visitor of any page, or compressed now and kept if this
// content came before (see Budget.seen). The first time a content of at
// most maxStoredFirst bytes comes it returns nil, for the caller to send
// it stored (appendCompressed); a larger one is compressed and not kept.
// Without a budget, every content is compressed. k, when not nil, is the
// budget's entry of the form returned (z is k.z()), with its CRC: kept,
// unless it alone is larger than the budget.
func (b *Budget) compressed(content []byte, level int) (z []byte, k *kept) {
	if b == nil {
		return deflatePiece(nil, content, level, false), nil
	}
	h := maphash.Bytes(seed, content)
	if k = b.front.Load().find(content, h); k == nil {
		k = b.fromMap(content, h)
	}
	if k != nil && k.level == level {
		return k.z(), k
	}
	tag := h | 1 // never 0, an empty slot
	if slot := &b.seen[(h>>1)%seenSlots]; slot.Swap(tag) != tag && k == nil {
		// The first time: not kept.
		if len(content) <= maxStoredFirst {
			return nil, nil
		}
		return deflatePiece(nil, content, level, false), nil
	}
	z = deflatePiece(nil, content, level, false)
	k = &kept{
		hash: h, level: level, n: len(content), b: make([]byte, len(content)+len(z)),
		crc: crc32.ChecksumIEEE(content), shift: xPow8n(len(content)),
	}
	copy(k.b, content)
	copy(k.b[len(content):], z)
	b.keep(k)
	return k.z(), k
}

// fromMap returns the entry of content, of hash h, kept in the map (and
// puts it in the front), or nil.
func (b *Budget) fromMap(content []byte, h uint64) *kept {
	b.mu.RLock()
	defer b.mu.RUnlock()
	k := b.m[h]
	if k == nil || !k.is(content, h) {
		return nil
	}
	b.front.Load().put(k)
	return k
}

// keep puts k in the map, in place of the same content at another level
// (or, as unlikely as two contents of one 64-bit hash, of another
// content), and in the front; when the budget would be over, it starts
// over. A content larger than the whole budget is not kept.
func (b *Budget) keep(k *kept) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := b.max - frontSize(b.max)
	if k.cost() > limit {
		return
	}
	if old := b.m[k.hash]; old != nil {
		b.bytes -= old.cost()
		b.front.Load().drop(old)
	}
	if b.m == nil || b.bytes+k.cost() > limit {
		b.m, b.bytes = make(map[uint64]*kept), 0
		b.front.Store(newKeptFront(b.max))
	}
	b.m[k.hash] = k
	b.bytes += k.cost()
	b.front.Load().put(k)
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
// comes (the first, it goes stored, within the page's allowance: see
// appendCompressed), and kept for
// every page and visitor (in the Budget), so that a block whose cards
// differ per visitor costs copies, not a deflate: a block of cards
// compresses a little worse apart than whole (each part's back-references
// stay within it), for ~10 µs less per page. A content without cuts is one
// part.
func (g *Gzip) AppendParts(dst []byte, contents [][]byte, cuts [][]int, level int) []byte {
	dst = append(dst, gzipHeader...)
	// The CRC runs over the page as it goes out: the shop's pieces are
	// appended by their CRC and precomputed shift (combine), so are the
	// visitor's parts the budget keeps (their CRC kept with them), the
	// rest by their bytes (crc32.Update).
	var crc uint32
	n := len(g.spans)
	size := g.size
	stored := maxStoredFirst // what this page may still send stored the first time (appendCompressed)
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
			crc = crc32.Update(crc, crc32.IEEETable, b)
		case i < len(cuts) && len(cuts[i]) > 0:
			dst, crc = g.appendCut(dst, crc, b, cuts[i], level, &stored)
		default:
			var k *kept
			if dst, k = g.appendCompressed(dst, b, level, &stored); k != nil {
				crc = combine(crc, k.crc, k.shift)
			} else {
				crc = crc32.Update(crc, crc32.IEEETable, b)
			}
		}
		size += len(contents[i]) - s.Len()
	}
	dst = append(dst, g.gaps[n]...)
	crc = combine(crc, g.crcs[n], g.shifts[n])
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return binary.LittleEndian.AppendUint32(dst, uint32(size))
}

// appendCut appends content b as its parts, ending at cuts, each
// compressed once for every page (small ones stored), and extends crc by
// b: by the CRCs of the parts the budget keeps, by the bytes of the rest
// (those between two kept parts at once).
func (g *Gzip) appendCut(dst []byte, crc uint32, b []byte, cuts []int, level int, stored *int) ([]byte, uint32) {
	from := 0
	pending := 0 // b[pending:from] is out but not yet in crc
	for k := 0; k <= len(cuts); k++ {
		to := len(b)
		if k < len(cuts) {
			to = min(max(cuts[k], from), len(b))
		}
		part := b[from:to]
		switch {
		case len(part) == 0:
		case len(part) <= maxStoredPart:
			dst = appendStored(dst, part)
		default:
			var kp *kept
			if dst, kp = g.appendCompressed(dst, part, level, stored); kp != nil {
				if pending < from { // a call costs ~10 ns even for nothing
					crc = crc32.Update(crc, crc32.IEEETable, b[pending:from])
				}
				crc = combine(crc, kp.crc, kp.shift)
				pending = to
			}
		}
		from = to
	}
	return dst, crc32.Update(crc, crc32.IEEETable, b[pending:])
}

// appendCompressed appends content b compressed as the budget keeps it,
// or stored the first time b comes if it is small (maxStoredFirst): what
// one visitor alone gets (an overlay of their cart, a block head in their
// variant) would cost a deflate (on the load harness's gzip pages, 5% of
// the server's time, 2026-12-03) to save a few hundred bytes once; what
// comes again is compressed then, and kept. A page sends at most
// maxStoredFirst bytes so in all (*stored is what it may still send):
// past that, what comes for the first time is compressed, and not kept,
// so that a page of many parts no one got before (a search's results,
// each card a part) is not sent near whole. It returns the budget's entry
// for b when b went out as the budget keeps it, else nil.
func (g *Gzip) appendCompressed(dst, b []byte, level int, stored *int) ([]byte, *kept) {
	if z, k := g.budget.compressed(b, level); z != nil {
		return append(dst, z...), k
	}
	if len(b) > *stored {
		return deflatePiece(dst, b, level, false), nil
	}
	*stored -= len(b)
	for len(b) > maxStoredBlock {
		dst = appendStored(dst, b[:maxStoredBlock])
		b = b[maxStoredBlock:]
	}
	return appendStored(dst, b), nil
}

// maxStoredBlock is the most bytes one stored deflate block holds.
const maxStoredBlock = 65535

// maxStoredFirst is the largest content sent stored the first time it
// comes, and the most a page sends so of all the contents it has for the
// first time (appendCompressed): a few kilobytes uncompressed cost the
// visitor less than the deflate costs the proxy; a larger one (a long
// menu, a results list in the visitor's order) is compressed, and kept
// only if it comes again.
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
