package rules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration, with where it is.
type Problem struct {
	File      string
	Line, Col int    // 1-based; 0 when unknown
	Field     string // dotted path, like "pages[2].path"
	Msg       string
}

// Error formats the problem as file:line:col: field: message, or field:
// message for a configuration made in Go, which has no file.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Col > 0 {
				fmt.Fprintf(&b, ":%d", p.Col)
			}
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a configuration, in file order.
type Problems []Problem

// Error lists the problems, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads the configuration file at path and compiles it (see Parse).
// On failure the error is a Problems listing everything wrong, or a read
// error.
func Load(path string) (*Compiled, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a configuration read from the named file, with the
// position of every field, fills the defaults and compiles it (Compile:
// provision, then validate). Every problem is reported at once, decoding's
// and compiling's, as a Problems in file order; a field that failed to
// decode is reported once, for that.
func Parse(name string, data []byte) (*Compiled, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{syntaxProblem(name, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		line := 1
		if len(root.Content) > 0 {
			line = root.Content[0].Line
		}
		return nil, Problems{{File: name, Line: line, Msg: "the configuration must be a mapping of sections (upstream:, server:, ...)"}}
	}
	idx := newPositions(root.Content[0])

	cfg := &Config{file: name, pos: idx}
	var ps Problems
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Problems{syntaxProblem(name, err)}
		}
		for _, m := range te.Errors {
			ps = append(ps, idx.decodeProblem(name, m))
		}
	}
	cfg.setDefaults()
	// A field that failed to decode is left empty; do not report it twice.
	reported := map[string]bool{}
	for _, p := range ps {
		reported[p.Field] = true
	}
	c, more := compile(cfg, reported)
	ps = append(ps, more...)
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].Line != ps[j].Line {
				return ps[i].Line < ps[j].Line
			}
			return ps[i].Col < ps[j].Col
		})
		return nil, ps
	}
	return c, nil
}

var (
	lineRe      = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?::(\d+))?: (.*)$`)
	unknownRe   = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	unmarshalRe = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

func syntaxProblem(name string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: name, Line: line, Msg: "YAML syntax: " + m[3]}
	}
	return Problem{File: name, Msg: "YAML syntax: " + msg}
}

// decodeProblem turns one of the decoder's messages into a Problem.
func (idx *positions) decodeProblem(name, m string) Problem {
	sm := lineRe.FindStringSubmatch(m)
	if sm == nil {
		return Problem{File: name, Msg: m}
	}
	line, _ := strconv.Atoi(sm[1])
	col, _ := strconv.Atoi(sm[2])
	msg := sm[3]
	p := Problem{File: name, Line: line, Col: col, Msg: msg}
	if u := unknownRe.FindStringSubmatch(msg); u != nil {
		if e, ok := idx.key(line, u[1]); ok {
			p.Col, p.Field = e.col, e.path
		}
		p.Msg = "unknown field (see configs/reference.yaml for the fields there are)"
		return p
	}
	if u := unmarshalRe.FindStringSubmatch(msg); u != nil {
		got := strconv.Quote(u[2])
		switch u[1] {
		case "seq":
			got = "a list"
		case "map":
			got = "a mapping"
		}
		p.Msg = fmt.Sprintf("want %s, got %s", typeWord(u[3]), got)
	}
	if e, ok := idx.at(line, col); ok {
		p.Col, p.Field = e.col, e.path
	}
	return p
}

func typeWord(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}

// positions maps field paths to where they are in the file.
type positions struct {
	entries []posEntry
	byPath  map[string]posEntry
}

type posEntry struct {
	line, col int
	path      string
	key       string // the mapping key, for key entries
	isKey     bool
	isMap     bool // the value is a mapping (its position is its first key's)
}

func newPositions(root *yaml.Node) *positions {
	idx := &positions{byPath: map[string]posEntry{}}
	idx.walk(root, "")
	return idx
}

func (idx *positions) add(e posEntry) {
	idx.entries = append(idx.entries, e)
	if _, ok := idx.byPath[e.path]; !ok {
		idx.byPath[e.path] = e
	}
}

func (idx *positions) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			idx.add(posEntry{line: v.Line, col: v.Column, path: p, isMap: v.Kind == yaml.MappingNode})
			idx.add(posEntry{line: k.Line, col: k.Column, path: p, key: k.Value, isKey: true})
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			idx.add(posEntry{line: c.Line, col: c.Column, path: p, isMap: c.Kind == yaml.MappingNode})
			idx.walk(c, p)
		}
	}
}

// key finds the mapping key named name on a line.
func (idx *positions) key(line int, name string) (posEntry, bool) {
	for _, e := range idx.entries {
		if e.isKey && e.line == line && e.key == name {
			return e, true
		}
	}
	return posEntry{}, false
}

// at finds the value at a position: the deepest one starting exactly
// there, or, when col is 0, the outermost one on the line that is not a
// block mapping (a mapping's position is that of its first key).
func (idx *positions) at(line, col int) (posEntry, bool) {
	var best posEntry
	found := false
	for _, e := range idx.entries {
		if e.line != line || e.isKey || col != 0 && e.col != col || col == 0 && e.isMap {
			continue
		}
		if !found || col != 0 && len(e.path) > len(best.path) || col == 0 && len(e.path) < len(best.path) {
			best, found = e, true
		}
	}
	return best, found
}

// find returns the position of a path, or of its nearest ancestor present
// in the file (a missing required field is reported where its section is).
// A configuration made in Go has no positions: its problems have none.
func (idx *positions) find(path string) (line, col int) {
	if idx == nil {
		return 0, 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if e, ok := idx.byPath[p]; ok {
			return e.line, e.col
		}
	}
	return 0, 0
}

// has reports whether the file holds the field at path; a configuration
// made in Go holds none.
func (idx *positions) has(path string) bool {
	if idx == nil {
		return false
	}
	_, ok := idx.byPath[path]
	return ok
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// validator collects problems found after decoding.
type validator struct {
	file     string
	idx      *positions
	problems Problems
	// unlessInside are problems dropped when a field inside theirs failed
	// to decode (an empty condition whose only key was unknown).
	unlessInside map[int]bool
}

func (v *validator) add(path, format string, args ...any) {
	line, col := v.idx.find(path)
	v.problems = append(v.problems, Problem{File: v.file, Line: line, Col: col, Field: path, Msg: fmt.Sprintf(format, args...)})
}
