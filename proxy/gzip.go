package proxy

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/flate"

	"shopedge/rewrite"
)

// A personalized page differs from the shop's only inside its menus, so
// its gzip form is assembled from pieces: the unchanged stretches between
// menus, compressed once per page and kept with the page's analysis, and
// the reordered menus, compressed per visitor. Each piece is a deflate
// stream ended by a sync flush (byte-aligned, not final); the last piece is
// final. Concatenated after a gzip header they form one valid deflate
// stream, as pigz does: a piece's back-references never reach outside it.

// gzipParts are a page's unchanged pieces, compressed.
type gzipParts struct {
	gaps  [][]byte // gaps[i] precedes lists[i]; the last gap is final
	lists [][]byte // each menu as the shop sent it
	crcs  []uint32 // CRC-32 of each gap, then of each list, as in gaps, lists

	// orders keeps menus compressed in the orders visitors asked for:
	// visitors share a few favourite categories, so a page sees few
	// orders, and most visitors cost no compression at all.
	mu     sync.Mutex
	orders map[string]menuPiece
}

// menuPiece is a reordered menu, compressed, with its CRC.
type menuPiece struct {
	z   []byte
	crc uint32
}

// maxOrders bounds the reordered menus kept per page.
const maxOrders = 32

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

// newGzipParts compresses the unchanged parts of a decoded page.
func newGzipParts(body []byte, lists []navList) *gzipParts {
	g := &gzipParts{}
	pos := 0
	for _, l := range lists {
		gap := body[pos:l.span.Start]
		g.gaps = append(g.gaps, deflatePiece(nil, gap, partsLevel, false))
		g.crcs = append(g.crcs, crc32.ChecksumIEEE(gap))
		g.lists = append(g.lists, deflatePiece(nil, l.bytes, partsLevel, false))
		pos = l.span.End
	}
	last := body[pos:]
	g.gaps = append(g.gaps, deflatePiece(nil, last, partsLevel, true))
	g.crcs = append(g.crcs, crc32.ChecksumIEEE(last))
	for _, l := range lists {
		g.crcs = append(g.crcs, crc32.ChecksumIEEE(l.bytes))
	}
	return g
}

// appendGzip appends the gzip form of the page with its menus in the
// given orders (nil: the shop's order) to dst. scratch is working space.
func (info *pageInfo) appendGzip(dst []byte, orders [][]int, level int, scratch *[]byte) []byte {
	g := info.gz
	dst = append(dst, gzipHeader...)
	var crc uint32
	n := len(info.lists)
	for i, l := range info.lists {
		dst = append(dst, g.gaps[i]...)
		crc = crc32Combine(crc, g.crcs[i], info.gapLen(i))
		if orders[i] == nil {
			dst = append(dst, g.lists[i]...)
			crc = crc32Combine(crc, g.crcs[n+1+i], l.span.Len())
			continue
		}
		piece := g.menu(i, &info.lists[i], orders[i], level, scratch)
		dst = append(dst, piece.z...)
		crc = crc32Combine(crc, piece.crc, l.span.Len())
	}
	dst = append(dst, g.gaps[n]...)
	crc = crc32Combine(crc, g.crcs[n], info.gapLen(n))
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return binary.LittleEndian.AppendUint32(dst, uint32(info.size))
}

// menu returns list i in the given order, compressed: from the kept
// orders, or compressed now (and kept, while there is room).
func (g *gzipParts) menu(i int, l *navList, order []int, level int, scratch *[]byte) menuPiece {
	var kb [64]byte
	key := append(kb[:0], byte(i))
	for _, o := range order {
		key = append(key, byte(o), byte(o>>8))
	}
	g.mu.Lock()
	piece, ok := g.orders[string(key)]
	g.mu.Unlock()
	if ok {
		return piece
	}
	*scratch = l.reordered((*scratch)[:0], order)
	piece = menuPiece{z: deflatePiece(nil, *scratch, level, false), crc: crc32.ChecksumIEEE(*scratch)}
	g.mu.Lock()
	if g.orders == nil {
		g.orders = map[string]menuPiece{}
	}
	if len(g.orders) < maxOrders {
		g.orders[string(key)] = piece
	}
	g.mu.Unlock()
	return piece
}

// gapLen is the length of the unchanged stretch before list i (or after
// the last list, for i == len(lists)).
func (info *pageInfo) gapLen(i int) int {
	start := 0
	if i > 0 {
		start = info.lists[i-1].span.End
	}
	end := info.size
	if i < len(info.lists) {
		end = info.lists[i].span.Start
	}
	return end - start
}

// reordered appends the list's bytes with its entries in the given order.
func (l *navList) reordered(dst []byte, order []int) []byte {
	var sp rewrite.Splice
	var buf [32]rewrite.Range
	slots := buf[:0]
	for _, s := range l.slots {
		slots = append(slots, rewrite.Range{Start: s.Start - l.span.Start, End: s.End - l.span.Start})
	}
	if err := sp.Reorder(slots, order); err != nil {
		return append(dst, l.bytes...)
	}
	return sp.Bytes(dst, l.bytes)
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B, given the
// CRC of A, the CRC of B and B's length, without reading the bytes (the
// method of zlib's crc32_combine: multiply by x^(8·lenB) in GF(2)).
func crc32Combine(crcA, crcB uint32, lenB int) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return multModP(xPow8n(lenB), crcA) ^ crcB
}

// The reflected IEEE polynomial.
const crcPoly = 0xedb88320

// multModP multiplies a and b modulo the CRC polynomial (reflected).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2nTable[k] is x^(2^k) modulo the polynomial.
var x2nTable = func() [32]uint32 {
	var t [32]uint32
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
}()

// xPow8n returns x^(8n) modulo the polynomial.
func xPow8n(n int) uint32 {
	p := uint32(1) << 31 // x^0
	k := 3
	for n > 0 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		n >>= 1
		k++
	}
	return p
}
