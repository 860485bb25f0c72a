// Command shopedge runs the shopedge edge personalization proxy.
//
// Usage:
//
//	shopedge demo    [-listen ADDR] [-shop-listen ADDR] [-admin-listen ADDR]
//	shopedge serve   -config FILE [-listen ADDR] [-upstream URL]
//	shopedge check   FILE...
//	shopedge eval    -events FILE [-test FILE] [-json]
//	shopedge preview -config FILE [-segment NAME] [-experiment NAME -arm ARM] [-ttl 1h] [-base URL]
//	shopedge report  [-admin URL] [-token T] [-json]
//	shopedge version
//
// demo starts the bundled demo shop and shopedge in front of it. serve runs
// shopedge in front of any shop. check validates configuration files and
// prints every problem as file:line:col: field: problem. preview prints a
// signed link that shows the shop as a member of a segment, or a visitor in
// an experiment's arm, sees it.
// report prints a running shopedge's experiments as tables.
// SIGHUP makes serve and demo reload their configuration; SIGINT or
// SIGTERM stop them gracefully.
//
// Files:
//   - main.go: the command line: commands, usage, version.
//   - serve.go: serve and check, and what serve shares with demo: flag
//     overrides, running the proxy and its admin listener, signals and
//     reloads, the memory limit, the logger.
//   - demo.go: demo and its warm start, the only file that imports the demo
//     shop.
//   - eval.go: eval, the offline evaluation of recommendation strategies.
//   - preview.go: preview, a signed link to preview a segment or an arm.
//   - report.go: report, a running shopedge's experiments as tables.
//   - progress.go: progress, how far a long read has gone, on a terminal
//     only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage means the command line was wrong; usage has been printed.
var errUsage = errors.New("usage")

// errHelp means help was asked for (-h, --help) and printed: the command
// ends, with status 0.
var errHelp = errors.New("help")

// parse reads a command's flags. -h, -help and --help print them on
// stdout and end the command with status 0 (errHelp); a wrong flag prints
// them on stderr (the flag set's output) and ends it with status 2
// (errUsage).
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return errHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = demo(args[1:], stdout, stderr)
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "check":
		err = check(args[1:], stdout, stderr)
	case "eval":
		err = eval(args[1:], stdout, stderr)
	case "preview":
		err = preview(args[1:], stdout, stderr)
	case "report":
		err = report(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "shopedge", versionString())
	case "help", "-h", "-help", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "shopedge: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "shopedge: %v\n", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `shopedge: an edge personalization proxy for online shops

Usage:
  shopedge demo    [-listen ADDR] [-shop-listen ADDR] [-admin-listen ADDR]
                   run the bundled demo shop with shopedge in front of it
  shopedge serve   -config FILE [-listen ADDR] [-upstream URL]
                   run shopedge in front of a shop
  shopedge check   FILE...
                   validate configuration files
  shopedge eval    -events FILE [-test FILE] [-json]
                   evaluate the recommendation strategies on a clickstream
  shopedge preview -config FILE [-segment NAME] [-experiment NAME -arm ARM] [-ttl 1h] [-base URL]
                   print a signed link that previews a segment, an arm, or both
  shopedge report  [-admin URL] [-token T] [-json]
                   print a running shopedge's experiments, arm by arm
  shopedge version print the version

Run "shopedge COMMAND -h" for a command's flags. Configuration reference:
configs/reference.yaml.
`)
}

// versionString is the module's version and the commit it was built from
// (with "+dirty" when the work tree had changes, and the commit's time),
// then the Go version. go run and go test binaries, and go build with
// -buildvcs=false, carry no commit: the string says so.
func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown: built without module information)"
	}
	v := info.Main.Version
	var rev, at string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		v += " commit unknown (built without VCS information: go build -buildvcs=true ./cmd/shopedge in a git checkout records it)"
	default:
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " commit " + rev
		if dirty {
			v += "+dirty"
		}
		if at != "" {
			v += " (" + at + ")"
		}
	}
	return v + " " + info.GoVersion
}
