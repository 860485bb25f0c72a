package splice

// The CRC-32 of a gzip page is joined from the CRCs of its pieces: the
// CRC of A followed by B is CRC(A)·x^(8·len B) + CRC(B) in GF(2)[x]
// modulo the polynomial (zlib's crc32_combine), the product computed here
// without the bytes.

// crc32Combine returns the CRC-32 (IEEE) of A followed by B, given the
// CRC of A, the CRC of B and B's length, without reading the bytes.
func crc32Combine(crcA, crcB uint32, lenB int) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return combine(crcA, crcB, xPow8n(lenB))
}

// combine is crc32Combine with B's shift, xPow8n(lenB), given.
func combine(crcA, crcB, shift uint32) uint32 {
	return multModP(shift, crcA) ^ crcB
}

// The reflected IEEE polynomial.
const crcPoly = 0xedb88320

// multModP multiplies a and b modulo the CRC polynomial, both reflected
// (bit 31 is x^0, bit 0 x^31, as CRC-32 holds them): their carry-less
// product, 63 bits, then its high-degree half reduced by tables, as a CRC
// reduces its register over four zero bytes. It costs ~10 ns where a
// multiply a bit at a time costs ~200 (a mispredicted branch every other
// bit: 19% of AppendParts in the load harness's profile, 2026-12-03), and
// it keeps nothing per page.
func multModP(a, b uint32) uint32 {
	// Reflected, the product's x^k is bit 62-k of the carry-less product:
	// shifted by one, the high word holds x^0..x^31 as a CRC does, the
	// low word x^32..x^63, which is that word times x^32.
	p := clmul(a, b) << 1
	l := uint32(p)
	return uint32(p>>32) ^ zeros4[3][byte(l)] ^ zeros4[2][byte(l>>8)] ^ zeros4[1][byte(l>>16)] ^ zeros4[0][l>>24]
}

// clmul is the carry-less product of x and y, from integer products: with
// the bits of each operand taken one in four, no column of a product sums
// more than 8 ones, so no carry reaches the next bit of the same class,
// and each class's bits are the XOR of the four products that land on it
// (BearSSL's bmul, for GHASH).
func clmul(x, y uint32) uint64 {
	x0, x1, x2, x3 := uint64(x&0x11111111), uint64(x&0x22222222), uint64(x&0x44444444), uint64(x&0x88888888)
	y0, y1, y2, y3 := uint64(y&0x11111111), uint64(y&0x22222222), uint64(y&0x44444444), uint64(y&0x88888888)
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&0x1111111111111111 | z1&0x2222222222222222 | z2&0x4444444444444444 | z3&0x8888888888888888
}

// zeros4[k][v] is v in the low byte of a reflected word times x^(8k+8),
// modulo the polynomial, which is v in byte 3-k times x^32: the tables of
// a CRC taken four bytes at a time, over zero bytes. 4 KiB, shared by
// every page.
var zeros4 = func() (t [4][256]uint32) {
	for v := range 256 {
		c := uint32(v)
		for range 8 {
			c = c>>1 ^ crcPoly&-(c&1)
		}
		t[0][v] = c
	}
	for k := 1; k < 4; k++ {
		for v := range 256 {
			c := t[k-1][v]
			t[k][v] = t[0][byte(c)] ^ c>>8
		}
	}
	return t
}()

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
