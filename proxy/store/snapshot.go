package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Section is one part of the state in a snapshot: its name, and how it
// writes and reads itself. Read must read exactly what Write wrote from
// the reader every section shares (it must not buffer on its own, nor
// read past its end) and must leave its state empty, or as it was, when
// it fails.
type Section struct {
	Name  string
	Write func(w io.Writer) error
	Read  func(r *bufio.Reader) error
}

// ErrSnapshot wraps every reason a snapshot is refused: not a snapshot,
// another format, another shop's, cut short, a checksum that does not
// match, a section that fails its own checks.
var ErrSnapshot = errors.New("store: snapshot refused")

// magic opens every snapshot; version is the container's format.
const (
	magic   = "shopedge snapshot\n"
	version = 2
	maxName = 64
)

// Save writes a snapshot of sections to path atomically: into a new file
// beside it, synced, then renamed over it, so that a crash leaves the old
// snapshot or the new one, never half of one. owner names whose state it
// is (the shop): Load refuses another owner's. It returns the bytes
// written.
func Save(path, owner string, sections []Section) (size int64, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	size, err = Encode(f, owner, sections)
	if err != nil {
		return 0, fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename itself, durable
		_ = d.Close()
	}
	return size, nil
}

// Encode writes a snapshot of sections to w: a header naming the format
// and owner, each section behind its name, and a CRC-32 of everything
// before it. It returns the bytes written. Save puts one in a file; a
// shared store keeps one as a value.
func Encode(w io.Writer, owner string, sections []Section) (size int64, err error) {
	cw := &countWriter{w: w}
	sum := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(cw, sum), 1<<16)
	head := append([]byte(magic), binary.AppendUvarint(nil, version)...)
	head = appendString(head, owner)
	head = binary.AppendUvarint(head, uint64(len(sections)))
	if _, err := bw.Write(head); err != nil {
		return 0, err
	}
	for _, s := range sections {
		if _, err := bw.Write(appendString(nil, s.Name)); err != nil {
			return 0, err
		}
		if err := s.Write(bw); err != nil {
			return 0, fmt.Errorf("section %s: %w", s.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if _, err := cw.Write(binary.LittleEndian.AppendUint32(nil, sum.Sum32())); err != nil {
		return 0, err
	}
	return cw.n, nil
}

// Load reads a snapshot Save wrote into sections, which must be the same
// ones in the same order. It checks the whole file's checksum first, so
// that no section reads a corrupted byte. A missing file is an error
// wrapping os.ErrNotExist (a first start); any other reason to refuse it
// wraps ErrSnapshot, and the sections read before the failure hold what
// they read: the caller starts afresh.
func Load(path, owner string, sections []Section) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	return Decode(f, st.Size(), path, owner, sections)
}

// Decode reads the snapshot of size bytes in r, which Encode wrote, into
// sections, as Load does; name says where it came from, in errors.
func Decode(r io.ReaderAt, size int64, name, owner string, sections []Section) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrSnapshot, name, fmt.Sprintf(format, args...))
	}
	if size < int64(len(magic))+4 {
		return refuse("not a shopedge snapshot")
	}
	sum := crc32.NewIEEE()
	if _, err := io.Copy(sum, io.NewSectionReader(r, 0, size-4)); err != nil {
		return fmt.Errorf("store: snapshot %s: %w", name, err)
	}
	var tail [4]byte
	if _, err := r.ReadAt(tail[:], size-4); err != nil {
		return fmt.Errorf("store: snapshot %s: %w", name, err)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size-4), 1<<16)
	got := make([]byte, len(magic))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != magic {
		return refuse("not a shopedge snapshot")
	}
	if binary.LittleEndian.Uint32(tail[:]) != sum.Sum32() {
		return refuse("checksum mismatch: cut short or corrupted")
	}
	v, err := binary.ReadUvarint(br)
	if err != nil || v != version {
		return refuse("format %d, want %d", v, version)
	}
	who, err := readString(br, 1<<12)
	if err != nil {
		return refuse("cut short")
	}
	if who != owner {
		return refuse("written for %q, not %q", who, owner)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n != uint64(len(sections)) {
		return refuse("%d sections, want %d", n, len(sections))
	}
	for _, s := range sections {
		sec, err := readString(br, maxName)
		if err != nil || sec != s.Name {
			return refuse("section %q where %q was expected", sec, s.Name)
		}
		if err := s.Read(br); err != nil {
			return refuse("section %s: %v", s.Name, err)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return refuse("bytes after the last section")
	}
	return nil
}

// appendString appends s with its length in front.
func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// readString reads a string appendString wrote, of at most limit bytes.
func readString(r *bufio.Reader, limit int) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(limit) {
		return "", fmt.Errorf("bad string length")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// RemoveTemporary removes the temporary files a save of path left when
// the process died before renaming them.
func RemoveTemporary(path string) {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".*"))
	for _, f := range left {
		_ = os.Remove(f)
	}
}
