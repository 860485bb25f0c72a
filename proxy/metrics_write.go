package proxy

import (
	"bytes"
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// Gauge is a named value sampled when metrics are written.
type Gauge struct {
	Name, Help string
	Value      float64
	Counter    bool // typed a counter: it only grows
}

// WriteTo writes the metrics and the given gauges in the Prometheus text
// exposition format, then the Go runtime's (go_*) and the process's
// (process_*, open file descriptors included) figures as the library
// reads them. Every family has a # TYPE line; shopedge's have a # HELP
// line too.
func (m *Metrics) WriteTo(w io.Writer, gauges []Gauge) {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	m.mirror(gauges)
	var text bytes.Buffer
	m.set.WritePrometheus(&text)
	metrics.WriteProcessMetrics(&text)
	metrics.WriteFDMetrics(&text)
	var out bytes.Buffer
	out.Grow(text.Len() + 16<<10)
	m.annotate(&out, text.Bytes())
	_, _ = w.Write(out.Bytes())
}

// mirror copies into the set the figures kept elsewhere: the gauges the
// proxy samples now (profiles, memory, the engine, the shared store), the
// upstream client's resends and the reload counts. Call with writeMu held.
func (m *Metrics) mirror(gauges []Gauge) {
	for _, g := range gauges {
		if _, ok := m.help[g.Name]; !ok {
			m.help[g.Name] = g.Help
		}
		if g.Counter {
			m.set.GetOrCreateFloatCounter(g.Name).Set(g.Value)
		} else {
			m.set.GetOrCreateGauge(g.Name, nil).Set(g.Value)
		}
	}
	for _, k := range []attemptKind{attemptNotSent, attemptUnanswered} {
		m.resentSeries[k].Set(uint64(m.resent[k].Load()))
	}
	m.reloads.mu.Lock()
	for res, c := range m.reloadSeries {
		c.Set(uint64(m.reloads.counts[res]))
	}
	m.reloads.mu.Unlock()
}

// annotate copies the library's exposition to w, giving each shopedge
// family's "# HELP name" line its text and leaving out the library's
// other HELP lines, which have none: strict parsers refuse a HELP line
// without text (vmagent logs it as a wrong exposition format), and the
// format does not require one. Call with writeMu held.
func (m *Metrics) annotate(w *bytes.Buffer, text []byte) {
	for len(text) > 0 {
		line, rest, _ := bytes.Cut(text, []byte{'\n'})
		text = rest
		if name, ok := bytes.CutPrefix(line, []byte("# HELP ")); ok && !bytes.ContainsRune(name, ' ') {
			if help, ok := m.help[string(name)]; ok {
				w.WriteString("# HELP ")
				w.Write(name)
				w.WriteByte(' ')
				w.WriteString(help)
				w.WriteByte('\n')
			}
			continue
		}
		w.Write(line)
		w.WriteByte('\n')
	}
}
