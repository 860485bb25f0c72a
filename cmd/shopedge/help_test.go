package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp (issue 14): -h, -help and --help print a command's flags on
// stdout and exit 0, for every command; a wrong flag exits 2 with the
// flags on stderr.
func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"-h"}, "Usage:"},
		{[]string{"--help"}, "Usage:"},
		{[]string{"help"}, "Usage:"},
		{[]string{"demo", "-h"}, "-shop-listen"},
		{[]string{"demo", "--help"}, "-store"},
		{[]string{"serve", "-h"}, "-config"},
		{[]string{"serve", "-help"}, "-snapshot"},
		{[]string{"check", "-h"}, "usage: shopedge check"},
		{[]string{"check", "--help"}, "file:line:col"},
		{[]string{"eval", "-h"}, "-events"},
		{[]string{"preview", "--help"}, "-segment"},
		{[]string{"report", "-h"}, "-admin"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != 0 {
				t.Errorf("exit %d, want 0; stderr: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("stdout lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "-no-such-flag"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-config") {
		t.Errorf("a wrong flag: exit %d, stderr %q; want 2 and the flags", code, errOut.String())
	}
}
