// Package codec decodes and re-encodes HTTP bodies (identity, gzip,
// brotli) with bounded output, and reads Accept-Encoding. It knows nothing
// of servers or requests.
//
// Files: codec.go, the encodings, bounded decoding, Encoder and
// Accept-Encoding parsing.
package codec
