package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"shopedge/proxy/recommend"
)

// eval runs the offline evaluation of the recommendation strategies.
func eval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.String("events", "", "clickstream CSV `file`: session_id,timestamp,event,item_id,category_id (required)")
	test := fs.String("test", "", "test clickstream `file` in the same format (default: the sessions starting in the last 10% of the time span)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	var o recommend.EvalOptions
	fs.IntVar(&o.Engine.MaxSessions, "sessions", 500000, "past `sessions` kept for session kNN")
	fs.IntVar(&o.Engine.MaxItems, "items", 1000000, "products tracked at most")
	fs.DurationVar(&o.Engine.HalfLife, "half-life", 30*24*time.Hour, "half-life of co-occurrence and popularity")
	// The session strategy's parameters; 0 takes the engine's default
	// (the one the proxy uses), negative turns a weighting off.
	fs.IntVar(&o.Engine.K, "k", 0, "neighbour visits session kNN scores with (0: engine default)")
	fs.IntVar(&o.Engine.Sample, "sample", 0, "candidate neighbour visits (0: engine default)")
	fs.Float64Var(&o.Engine.RecencyDecay, "recency-decay", 0, "current visit's position decay, STAN λ1 (0: engine default, <0: linear)")
	fs.DurationVar(&o.Engine.TimeDecay, "time-decay", 0, "neighbour visit's age decay, STAN λ2 (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.PositionDecay, "position-decay", 0, "position decay in a neighbour visit, STAN λ3 (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.InsertDecay, "insert-decay", 0, "decay by where a neighbour meets the visit, V-STAN λipw (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.IDF, "idf", 0, "weight of rare products, V-STAN λidf (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.Blend, "blend", 0, "weight of the latest product's co-views in session (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.Remind, "remind", 0, "weight of the visit's own products in session (0: engine default, <0: off)")
	fs.Float64Var(&o.Engine.RemindRepeat, "remind-repeat", 0, "how much more remind counts after repeated views (0: engine default, <0: off)")
	only := fs.String("strategies", "", "comma-separated `names` of the strategies to evaluate (default: all)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *events == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shopedge eval -events FILE [-test FILE] [-json]")
		return errUsage
	}
	if *only != "" {
		o.Strategies = strings.Split(*only, ",")
	}
	f, err := os.Open(*events)
	if err != nil {
		return err
	}
	defer f.Close()
	var tr io.Reader
	if *test != "" {
		tf, err := os.Open(*test)
		if err != nil {
			return err
		}
		defer tf.Close()
		tr = tf
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	prog := newProgress(stderr, "reading "+*events, size) // on a terminal only
	start := time.Now()
	results, st, err := recommend.Evaluate(progressReader{f, prog}, *events, tr, *test, o)
	prog.done()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	fmt.Fprintf(stdout, "training: %d events, %d sessions, %d products; test: %d sessions, %d events; %.1fs\n\n",
		st.TrainEvents, st.TrainSessions, st.Items, st.TestSessions, st.TestEvents, time.Since(start).Seconds())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tpredictions\tHR@10\tMRR@10\tHR@20\tMRR@20\tcoverage\tµs/prediction\tµs p50\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.3f\t%.1f\t%.1f\t\n", r.Strategy, r.Predictions, r.HR10, r.MRR10, r.HR20, r.MRR20, r.Coverage, r.USPerPred, r.USP50)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Params != "" {
			fmt.Fprintf(stdout, "  %s: %s\n", r.Strategy, r.Params)
		}
	}
	return nil
}
