package splice

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// multModPSerial is the product a bit at a time, as zlib's multmodp
// computes it: the reference for multModP.
func multModPSerial(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		b = b>>1 ^ crcPoly&-(b&1)
	}
	return p
}

// TestMultModP: the carry-less product agrees with the product a bit at a
// time, for operands of every weight (none, one bit, all) and at random.
func TestMultModP(t *testing.T) {
	t.Parallel()
	cases := []uint32{0, 1, 1 << 31, 1 << 30, 0xffffffff, 0x80000001, 0x11111111, 0x88888888, crcPoly}
	for i := range 32 {
		cases = append(cases, 1<<i, ^uint32(1<<i))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		cases = append(cases, r.Uint32())
	}
	for _, a := range cases {
		for _, b := range cases {
			if got, want := multModP(a, b), multModPSerial(a, b); got != want {
				t.Fatalf("multModP(%08x, %08x) = %08x, want %08x", a, b, got, want)
			}
		}
	}
}

// TestCombineRandom: the CRC of pieces of random lengths joined by their
// shifts, as AppendParts joins a page's, is the CRC of their
// concatenation.
func TestCombineRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 1<<18)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for range 200 {
		var crc uint32
		pos := 0
		for pos < len(data) {
			n := min(len(data)-pos, r.IntN(1<<r.IntN(17)+1))
			piece := data[pos : pos+n]
			crc = combine(crc, crc32.ChecksumIEEE(piece), xPow8n(n))
			pos += n
			if r.IntN(8) == 0 {
				break
			}
		}
		if want := crc32.ChecksumIEEE(data[:pos]); crc != want {
			t.Fatalf("%d bytes in pieces: CRC %08x, want %08x", pos, crc, want)
		}
	}
}

func FuzzMultModP(f *testing.F) {
	f.Add(uint32(1<<31), uint32(0x12345678))
	f.Add(uint32(0xffffffff), uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, a, b uint32) {
		if got, want := multModP(a, b), multModPSerial(a, b); got != want {
			t.Fatalf("multModP(%08x, %08x) = %08x, want %08x", a, b, got, want)
		}
	})
}
