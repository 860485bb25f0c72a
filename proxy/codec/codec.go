package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// Encoding is a content coding.
type Encoding uint8

// The codings shopedge can decode and encode, and the rest.
const (
	Identity Encoding = iota
	Gzip
	Brotli
	Unknown
)

func (e Encoding) String() string {
	return [...]string{"identity", "gzip", "br", "unknown"}[e]
}

// ErrTooLarge means the decoded body would exceed the limit (a compression
// bomb, or simply a page too large to rewrite).
var ErrTooLarge = errors.New("codec: decoded body exceeds the limit")

// Parse reads a Content-Encoding header value. Stacked codings ("gzip, br")
// and anything else unknown give Unknown.
func Parse(v []byte) Encoding {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0, bytes.EqualFold(v, []byte("identity")):
		return Identity
	case bytes.EqualFold(v, []byte("gzip")), bytes.EqualFold(v, []byte("x-gzip")):
		return Gzip
	case bytes.EqualFold(v, []byte("br")):
		return Brotli
	}
	return Unknown
}

var (
	gzipReaders sync.Pool
	brReaders   sync.Pool
)

// Decode appends the decoding of src to dst. It fails with ErrTooLarge once
// more than limit bytes come out, and with a wrapped error on corrupt input.
func Decode(dst, src []byte, enc Encoding, limit int) ([]byte, error) {
	switch enc {
	case Identity:
		if len(src) > limit {
			return dst, ErrTooLarge
		}
		return append(dst, src...), nil
	case Gzip:
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(src))
		} else {
			err = zr.Reset(bytes.NewReader(src))
		}
		if err != nil {
			return dst, fmt.Errorf("codec: gzip: %w", err)
		}
		defer gzipReaders.Put(zr)
		return readLimited(dst, zr, limit, "gzip")
	case Brotli:
		br, _ := brReaders.Get().(*brotli.Reader)
		if br == nil {
			br = brotli.NewReader(bytes.NewReader(src))
		} else if err := br.Reset(bytes.NewReader(src)); err != nil {
			return dst, fmt.Errorf("codec: brotli: %w", err)
		}
		defer brReaders.Put(br)
		return readLimited(dst, br, limit, "brotli")
	}
	return dst, fmt.Errorf("codec: cannot decode %s", enc)
}

func readLimited(dst []byte, r io.Reader, limit int, name string) ([]byte, error) {
	dst, err := ReadAtMost(dst, r, limit)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		return dst, fmt.Errorf("codec: %s: %w", name, err)
	}
	return dst, err
}

// ReadAtMost appends what r yields to dst. Once more than limit bytes have
// come, it stops with ErrTooLarge; dst then holds what was read.
func ReadAtMost(dst []byte, r io.Reader, limit int) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst)-start > limit {
			return dst, ErrTooLarge
		}
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			if len(dst)-start > limit {
				return dst, ErrTooLarge
			}
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Encoder compresses bodies at fixed levels, reusing its compressors.
type Encoder struct {
	gzipLevel, brotliLevel int
	gz, br                 sync.Pool
}

// NewEncoder returns an Encoder with the given gzip (1-9) and brotli (0-11)
// levels.
func NewEncoder(gzipLevel, brotliLevel int) *Encoder {
	return &Encoder{gzipLevel: gzipLevel, brotliLevel: brotliLevel}
}

// Encode appends the encoding of src to dst.
func (e *Encoder) Encode(dst, src []byte, enc Encoding) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	switch enc {
	case Identity:
		return append(dst, src...), nil
	case Gzip:
		zw, _ := e.gz.Get().(*gzip.Writer)
		if zw == nil {
			var err error
			if zw, err = gzip.NewWriterLevel(buf, e.gzipLevel); err != nil {
				return dst, fmt.Errorf("codec: gzip: %w", err)
			}
		} else {
			zw.Reset(buf)
		}
		defer e.gz.Put(zw)
		if _, err := zw.Write(src); err != nil {
			return dst, fmt.Errorf("codec: gzip: %w", err)
		}
		if err := zw.Close(); err != nil {
			return dst, fmt.Errorf("codec: gzip: %w", err)
		}
		return buf.Bytes(), nil
	case Brotli:
		bw, _ := e.br.Get().(*brotli.Writer)
		if bw == nil {
			bw = brotli.NewWriterLevel(buf, e.brotliLevel)
		} else {
			bw.Reset(buf)
		}
		defer e.br.Put(bw)
		if _, err := bw.Write(src); err != nil {
			return dst, fmt.Errorf("codec: brotli: %w", err)
		}
		if err := bw.Close(); err != nil {
			return dst, fmt.Errorf("codec: brotli: %w", err)
		}
		return buf.Bytes(), nil
	}
	return dst, fmt.Errorf("codec: cannot encode %s", enc)
}

// Accepted is the set of codings a client accepts.
type Accepted struct {
	Gzip, Brotli bool
}

// ParseAccept reads an Accept-Encoding header value: the codings listed
// with a q-value above zero ("*" counts for both).
func ParseAccept(v []byte) Accepted {
	var a Accepted
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte{','})
		name, params, _ := bytes.Cut(item, []byte{';'})
		name = bytes.TrimSpace(name)
		if qZero(params) {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("gzip")), bytes.EqualFold(name, []byte("x-gzip")):
			a.Gzip = true
		case bytes.EqualFold(name, []byte("br")):
			a.Brotli = true
		case bytes.Equal(name, []byte("*")):
			a.Gzip, a.Brotli = true, true
		}
	}
	return a
}

// qZero reports whether parameters carry q=0 (q=0, q=0.0, q=0.000).
func qZero(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte{';'})
		k, val, ok := bytes.Cut(bytes.TrimSpace(p), []byte{'='})
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			continue
		}
		val = bytes.TrimSpace(val)
		if len(val) == 0 || val[0] != '0' {
			return false
		}
		for _, c := range val[1:] {
			if c != '.' && c != '0' {
				return false
			}
		}
		return true
	}
	return false
}

// Header returns the Accept-Encoding value to send upstream for a page
// that may be personalized, for a client that accepts a: one coding the
// proxy decodes, gzip first, because a personalized gzip page is assembled
// from pieces compressed once per page while brotli must be re-encoded
// whole for each visitor.
func (a Accepted) Header() string {
	switch {
	case a.Gzip:
		return "gzip"
	case a.Brotli:
		return "br"
	}
	return "identity"
}
