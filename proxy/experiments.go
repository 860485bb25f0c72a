package proxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/experiment"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/proxy/store"
	"shopedge/rules"
)

// experiments counts the arms of every experiment, per visitor: a
// visitor's arm and what was counted of them live in their profile
// (profile.ExperimentSlot), the totals here, by the experiment's key (its
// name and seed), so that a reload keeps them and a new seed starts
// afresh. Only tracked visitors reach it: bots, Sec-GPC, no consent and
// previews are never counted.
//
// With a shared store (store.url), every change to the counts is also
// added there, and the reports read the totals of every instance from it.
type experiments struct {
	mu     sync.Mutex
	counts map[uint32][]experiment.Counts
	shared store.Shared // set by New with store.url; nil when alone
}

// bump changes the counts of an arm with f, and adds the change to the
// shared store; the caller holds mu.
func (e *experiments) bump(x *rules.CompiledExperiment, arm int, f func(c *experiment.Counts)) {
	c := &e.arms(x)[arm]
	before := *c
	f(c)
	if e.shared == nil {
		return
	}
	key := sharedCountsKey(x.Key)
	for i, d := range countFields(c.Sub(before)) {
		if d != 0 {
			e.shared.Add(key, armField(arm, i), d)
		}
	}
}

// sharedCountsKey names an experiment's counters in the shared store.
func sharedCountsKey(key uint32) string { return fmt.Sprintf("exp:%08x", key) }

// countNames name the fields of experiment.Counts in the shared store, in
// the order countFields gives them.
var countNames = [...]string{"visitors", "converters", "orders", "revenue", "revenue_sq", "cart_adders", "clickers"}

// countFields are the fields of c in the order of countNames.
func countFields(c experiment.Counts) [len(countNames)]float64 {
	return [...]float64{float64(c.Visitors), float64(c.Converters), float64(c.Orders), c.Revenue, c.RevenueSq, float64(c.CartAdders), float64(c.Clickers)}
}

// armField is the field of an arm's count in the shared store: "1:orders".
func armField(arm, field int) string { return strconv.Itoa(arm) + ":" + countNames[field] }

// sharedArms reads an experiment's arms from the shared store's totals.
func sharedArms(totals map[string]float64, arms int) []experiment.Counts {
	out := make([]experiment.Counts, arms)
	for i := range out {
		f := func(field int) float64 { return totals[armField(i, field)] }
		out[i] = experiment.Counts{
			Visitors: int64(f(0)), Converters: int64(f(1)), Orders: int64(f(2)),
			Revenue: f(3), RevenueSq: f(4), CartAdders: int64(f(5)), Clickers: int64(f(6)),
		}
	}
	return out
}

// arms returns the counts of an experiment's arms; the caller holds mu.
func (e *experiments) arms(x *rules.CompiledExperiment) []experiment.Counts {
	if e.counts == nil {
		e.counts = map[uint32][]experiment.Counts{}
	}
	c := e.counts[x.Key]
	if len(c) < len(x.Arms) {
		c = append(c, make([]experiment.Counts, len(x.Arms)-len(c))...)
		e.counts[x.Key] = c
	}
	return c
}

// expose records the exposures of a page view: a visitor's first exposure
// to an experiment keeps their arm in their profile and counts them.
func (e *experiments) expose(cfg *rules.Compiled, prof *profile.Profile, exps []plan.Exposure) {
	if len(exps) == 0 || prof == nil {
		return
	}
	var first [8]plan.Exposure
	n := 0
	prof.Update(func(d *profile.Data) {
		if len(d.Experiments()) == profile.MaxExperiments {
			d.DropExperiments(func(key uint32) bool { return experimentOf(cfg, key) != nil })
		}
		for _, x := range exps {
			if d.Expose(cfg.Experiments[x.Experiment].Key, x.Arm) && n < len(first) {
				first[n] = x
				n++
			}
		}
	})
	if n == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range first[:n] {
		e.bump(&cfg.Experiments[x.Experiment], x.Arm, (*experiment.Counts).AddVisitor)
	}
}

// change is something counted of a visitor in one experiment.
type change struct {
	key          uint32
	arm          int
	converted    bool    // had bought before (for AddOrder)
	priorRevenue float64 // their revenue before this order
}

// record applies what a visitor did to each experiment they are in: mark
// says which flag it sets (and whether to count it only the first time),
// count counts it.
func (e *experiments) record(cfg *rules.Compiled, prof *profile.Profile, match func(key uint32) bool, update func(s *profile.ExperimentSlot) (counted bool), count func(c *experiment.Counts, ch change)) {
	if prof == nil || len(cfg.Experiments) == 0 {
		return
	}
	var changes [profile.MaxExperiments]change
	n := 0
	prof.Update(func(d *profile.Data) {
		for i := range d.Experiments() {
			s := &d.Experiments()[i]
			if !match(s.Key) {
				continue
			}
			ch := change{key: s.Key, arm: int(s.Arm), converted: s.Flags&profile.Converted != 0, priorRevenue: float64(s.Revenue)}
			if update(s) {
				changes[n] = ch
				n++
			}
		}
	})
	if n == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range changes[:n] {
		if x := experimentOf(cfg, ch.key); x != nil && ch.arm < len(x.Arms) {
			e.bump(x, ch.arm, func(c *experiment.Counts) { count(c, ch) })
		}
	}
}

// order counts an order of amount for every experiment the visitor is in;
// number, when the page names the order, makes a reload of its
// confirmation count once.
func (e *experiments) order(cfg *rules.Compiled, prof *profile.Profile, number string, amount float64) {
	if !(amount >= 0 && amount <= maxOrder) {
		amount = 0 // a converter all the same, of no revenue anyone would believe
	}
	tag := orderTag(number)
	e.record(cfg, prof, func(uint32) bool { return true },
		func(s *profile.ExperimentSlot) bool {
			if tag != 0 && s.Order == tag {
				return false // this order, again
			}
			s.Order = tag
			s.Flags |= profile.Converted
			s.Revenue += float32(amount)
			return true
		},
		func(c *experiment.Counts, ch change) {
			prior := int64(0)
			if ch.converted {
				prior = 1
			}
			c.AddOrder(prior, ch.priorRevenue, amount)
		})
}

// cartAdd counts a visitor's first add to cart in every experiment they
// are in.
func (e *experiments) cartAdd(cfg *rules.Compiled, prof *profile.Profile) {
	e.record(cfg, prof, func(uint32) bool { return true },
		func(s *profile.ExperimentSlot) bool {
			first := s.Flags&profile.CartAdded == 0
			s.Flags |= profile.CartAdded
			return first
		},
		func(c *experiment.Counts, _ change) { c.AddCartAdder() })
}

// click counts a visitor's first click on an action ("block:ID",
// "overlay:ID") in the experiment on that action, if any.
func (e *experiments) click(cfg *rules.Compiled, prof *profile.Profile, action string) {
	var key uint32
	for i := range cfg.Experiments {
		if cfg.Experiments[i].Action == action {
			key = cfg.Experiments[i].Key
		}
	}
	if key == 0 {
		return
	}
	e.record(cfg, prof, func(k uint32) bool { return k == key },
		func(s *profile.ExperimentSlot) bool {
			first := s.Flags&profile.Clicked == 0
			s.Flags |= profile.Clicked
			return first
		},
		func(c *experiment.Counts, _ change) { c.AddClicker() })
}

// maxOrder bounds the value of one order: above it (a price misread from a
// page), the order counts with no revenue, so that no sum overflows.
const maxOrder = 1e9

// orderTag is a 16-bit hash of an order's number (FNV-1a); 0 for none.
func orderTag(number string) uint16 {
	if number == "" {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(number); i++ {
		h = (h ^ uint32(number[i])) * 16777619
	}
	return uint16(h>>16) | 1
}

// experimentOf is the configuration's experiment of a key, or nil.
func experimentOf(cfg *rules.Compiled, key uint32) *rules.CompiledExperiment {
	for i := range cfg.Experiments {
		if cfg.Experiments[i].Key == key {
			return &cfg.Experiments[i]
		}
	}
	return nil
}

// reports are the configuration's experiments, counted so far: by every
// instance, with a shared store (which it waits for until ctx ends).
func (e *experiments) reports(ctx context.Context, cfg *rules.Compiled) ([]experiment.Report, error) {
	shared := make([][]experiment.Counts, len(cfg.Experiments))
	for i := range cfg.Experiments {
		if e.shared == nil {
			break
		}
		x := &cfg.Experiments[i]
		totals, ok, err := e.shared.Totals(ctx, sharedCountsKey(x.Key))
		if err != nil {
			return nil, fmt.Errorf("experiment %s: counts in the shared store: %w", x.Name, err)
		}
		if ok {
			shared[i] = sharedArms(totals, len(x.Arms))
		}
	}
	out := make([]experiment.Report, 0, len(cfg.Experiments))
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range cfg.Experiments {
		x := &cfg.Experiments[i]
		counts := e.arms(x)
		if shared[i] != nil {
			counts = shared[i]
		}
		arms := make([]experiment.ArmCounts, len(x.Arms))
		for j := range x.Arms {
			arms[j] = experiment.ArmCounts{Name: x.Arms[j], Weight: x.Weights[j], Counts: counts[j]}
		}
		r := experiment.Build(arms, experiment.Options{})
		r.Name, r.Action = x.Name, x.Action
		out = append(out, r)
	}
	return out, nil
}

// adminExperiments answers GET /experiments: every experiment's arms,
// uplift with its intervals, the sample-ratio check and the verdict.
func (p *Proxy) adminExperiments(ctx *fasthttp.RequestCtx) {
	cfg := p.conf.Load().cfg
	wait, cancel := context.WithTimeout(context.Background(), cfg.Store.Timeout.D())
	defer cancel()
	reports, err := p.experiments.reports(wait, cfg)
	if err != nil {
		p.log.Error("experiments report", "err", err)
		ctx.Error("the shared store did not answer: the counts of every instance are there; try again\n", fasthttp.StatusServiceUnavailable)
		return
	}
	body, err := json.MarshalIndent(struct {
		Experiments []experiment.Report `json:"experiments"`
		At          time.Time           `json:"at"`
	}{reports, p.now().UTC()}, "", "  ")
	if err != nil {
		p.log.Error("experiments report", "err", err)
		ctx.Error("report failed\n", fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(append(body, '\n'))
}

// orderValue is what a cart is worth at checkout, from the learned prices:
// the order's value when the confirmation page does not show it; 0 when a
// price is unknown.
func orderValue(cat *catalog.Catalog, cart []profile.CartLine) float64 {
	total := 0.0
	for _, l := range cart {
		prod, ok := cat.Get(l.Product)
		if !ok || prod.Price <= 0 {
			return 0
		}
		total += prod.Price * float64(l.Qty)
	}
	return total
}

// global places a visitor in the global control or not, exposing them on
// their first page, and returns their arm: rules.ArmControl sees the shop
// exactly as it is.
func (e *experiments) global(cfg *rules.Compiled, prof *profile.Profile, visitorID string) int {
	x := &cfg.Experiments[cfg.GlobalControl-1]
	arm, first := rules.ArmTreatment, false
	prof.Update(func(d *profile.Data) {
		if s, ok := d.Experiment(x.Key); ok && int(s.Arm) < len(x.Arms) {
			arm = int(s.Arm)
			return
		}
		arm = plan.ArmOf(visitorID, x)
		first = d.Expose(x.Key, arm)
	})
	if first {
		e.mu.Lock()
		e.bump(x, arm, (*experiment.Counts).AddVisitor)
		e.mu.Unlock()
	}
	return arm
}

// cartOf appends to dst the lines of a visitor's cart as it is now.
func (p *Proxy) cartOf(visitorID string, dst []profile.CartLine) []profile.CartLine {
	if pr, ok := p.profiles.Get(visitorID); ok {
		d := pr.Snapshot()
		return d.AppendCart(dst)
	}
	return dst
}

// writeSnapshot writes every experiment's counts: their keys and arms'
// counts, as a length and JSON.
func (e *experiments) writeSnapshot(w io.Writer) error {
	e.mu.Lock()
	b, err := json.Marshal(e.counts)
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("experiment counts: %w", err)
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(b)))); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// maxCountsSnapshot bounds the experiment counts a snapshot may hold.
const maxCountsSnapshot = 16 << 20

// readSnapshot reads what writeSnapshot wrote, replacing the counts.
func (e *experiments) readSnapshot(r *bufio.Reader) error {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > maxCountsSnapshot {
		return fmt.Errorf("experiment counts: bad length")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("experiment counts: %w", err)
	}
	var counts map[uint32][]experiment.Counts
	if err := json.Unmarshal(b, &counts); err != nil {
		return fmt.Errorf("experiment counts: %w", err)
	}
	e.mu.Lock()
	e.counts = counts
	e.mu.Unlock()
	return nil
}
