package splice

import "shopedge/rewrite"

// Assemble appends body with the given contents, one per span (nil: the
// shop's bytes), to dst. spans are sorted and apart.
func Assemble(dst, body []byte, spans []rewrite.Range, contents [][]byte) []byte {
	pos := 0
	for i, s := range spans {
		dst = append(dst, body[pos:s.Start]...)
		if contents[i] != nil {
			dst = append(dst, contents[i]...)
		} else {
			dst = append(dst, body[s.Start:s.End]...)
		}
		pos = s.End
	}
	return append(dst, body[pos:]...)
}

// Pieces appends to dst the pieces of body with the given contents, one
// per span (nil: the shop's bytes), in order: stretches of body and the
// contents themselves, no byte copied. size is the length of the whole.
func Pieces(dst [][]byte, body []byte, spans []rewrite.Range, contents [][]byte) (pieces [][]byte, size int) {
	pos, size := 0, len(body)
	for i, s := range spans {
		if contents[i] == nil {
			continue
		}
		dst = append(dst, body[pos:s.Start], contents[i])
		size += len(contents[i]) - s.Len()
		pos = s.End
	}
	return append(dst, body[pos:]), size
}
