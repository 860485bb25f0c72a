package shop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// image serves a product's picture: an SVG in the product's colour.
func (s *Shop) image(w http.ResponseWriter, r *http.Request, sku string) {
	p, ok := s.Catalog.BySKU[sku]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hue := int(hash([]byte(p.Color)) % 360)
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400"><rect width="400" height="400" fill="hsl(%d,35%%,88%%)"/>`+
		`<circle cx="200" cy="170" r="90" fill="hsl(%d,45%%,55%%)"/><text x="200" y="330" font-family="sans-serif" font-size="22" text-anchor="middle" fill="#333">%s</text></svg>`,
		hue, hue, strings.ReplaceAll(p.SKU, "&", ""))
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Type", "image/svg+xml")
	http.ServeContent(w, r, sku+".svg", lastModified(), strings.NewReader(svg))
}

// static serves the theme's files with ETag, Last-Modified and Range
// support.
func (s *Shop) static(w http.ResponseWriter, r *http.Request, name string) {
	b, err := files.ReadFile(path.Join("static", path.Clean("/" + name)[1:]))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", fmt.Sprintf(`"%x"`, hash(b)))
	http.ServeContent(w, r, name, lastModified(), bytes.NewReader(b))
}

// download serves size bytes (default 20 MB, at most 1 GB) of a
// deterministic binary file, with Range support: the large, non-HTML body
// a proxy must stream.
func (s *Shop) download(w http.ResponseWriter, r *http.Request) {
	size := int64(20 << 20)
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<30 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		size = n
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="catalog.bin"`)
	http.ServeContent(w, r, "catalog.bin", lastModified(), &Pattern{Size: size})
}

// Pattern is a deterministic file of Size bytes: byte i is PatternByte(i).
// It is an io.ReadSeeker, so tests can check any range of what a proxy
// passed on.
type Pattern struct {
	Size int64
	off  int64
}

// PatternByte returns byte i of a Pattern.
func PatternByte(i int64) byte { return byte(i*7 + i>>8 + i>>16) }

// Read implements io.Reader.
func (p *Pattern) Read(b []byte) (int, error) {
	if p.off >= p.Size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.Size-p.off))
	for i := range n {
		b[i] = PatternByte(p.off + int64(i))
	}
	p.off += int64(n)
	return n, nil
}

// Seek implements io.Seeker.
func (p *Pattern) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.Size
	}
	if offset < 0 {
		return 0, errors.New("pattern: negative position")
	}
	p.off = offset
	return offset, nil
}
