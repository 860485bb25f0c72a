package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"shopedge/proxy"
	"shopedge/proxy/identity"
	"shopedge/rules"
)

// preview prints a signed link that previews a segment, an experiment's
// arm, or both: whoever opens it sees the shop as a member of the segment
// would, or as a visitor in the arm (every other experiment's action as
// written), with a badge, until the link expires or they close the badge.
// It signs with the identity keys, read from the environment as serve
// reads them.
func preview(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (required)")
	segment := fs.String("segment", "", "the segment to preview: new, returning, customer, prospect or one under segments:")
	experiment := fs.String("experiment", "", "the experiment whose arm to preview, by its name (with -arm)")
	arm := fs.String("arm", "", "the experiment's arm to preview: control, default or a variant's name (with -experiment)")
	ttl := fs.Duration("ttl", proxy.DefaultPreviewTTL, "how long the link works, at most 168h")
	base := fs.String("base", "", "the shop's `URL` through shopedge (default: the first of server.hosts, else http://server.listen)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *path == "" || *segment == "" && *experiment == "" && *arm == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shopedge preview -config FILE {-segment NAME | -experiment NAME -arm ARM | both} [-ttl 1h] [-base URL]")
		return errUsage
	}
	cfg, err := rules.Load(*path)
	if err != nil {
		return err
	}
	keys, err := rules.LoadKeys(cfg, os.Getenv)
	if err != nil {
		return fmt.Errorf("cannot sign:\n%w", err)
	}
	from := "-base"
	if *base == "" {
		from = "server.listen"
		if len(cfg.Server.Hosts) > 0 {
			from = "server.hosts"
		}
		*base = proxy.DefaultPreviewBase(cfg)
	}
	link, err := proxy.NewPreviewLink(cfg, keys, identity.Previewed{Segment: *segment, Experiment: *experiment, Arm: *arm}, *ttl, *base, time.Now())
	if err != nil {
		return err
	}
	var what []string
	if link.Segment != "" {
		what = append(what, fmt.Sprintf("segment %q", link.Segment))
	}
	if link.Experiment != "" {
		what = append(what, fmt.Sprintf("arm %q of experiment %q", link.Arm, link.Experiment))
	}
	fmt.Fprintln(stdout, link.Link)
	fmt.Fprintf(stderr, "preview of %s until %s, on %s (from %s)\n", strings.Join(what, " and "), link.Expires.Format(time.RFC3339), *base, from)
	return nil
}
