package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"shopedge/proxy/experiment"
)

// report fetches GET /experiments from a running shopedge's admin
// listener and prints it as tables a merchandiser reads: each
// experiment's arms, uplift with its intervals, the sample-ratio check
// and the verdict.
func report(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin", "http://127.0.0.1:9090", "the admin listener's `URL`")
	token := fs.String("token", "", "the admin token (default: $SHOPEDGE_ADMIN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the report as JSON, as the admin listener answers it")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shopedge report [-admin URL] [-token T] [-json]")
		return errUsage
	}
	if *token == "" {
		*token = os.Getenv("SHOPEDGE_ADMIN_TOKEN")
	}
	req, err := http.NewRequest("GET", strings.TrimSuffix(*admin, "/")+"/experiments", nil)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("report: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("report: %s answered %s: %s", req.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	if *asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var got struct {
		Experiments []experiment.Report `json:"experiments"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("report: %s: %w", req.URL, err)
	}
	if len(got.Experiments) == 0 {
		fmt.Fprintln(stdout, "no experiments in the running configuration")
		return nil
	}
	return experiment.WriteText(stdout, got.Experiments...)
}
