package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"shopedge/proxy/identity"
)

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	long := strings.Repeat("s", identity.MinSecretLen)
	for name, content := range map[string]string{"ok": "  " + long + "\n", "short": "tiny\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SE_OK": long, "SE_SHORT": "short", "SE_BLANK": " \n"}
	getenv := func(k string) string { return env[k] }
	// key is the identity section with one key, whose secret is given by
	// the line after its id (line 6).
	key := func(id, secret string) string {
		return upstreamOnly + "identity:\n  keys:\n    - id: " + id + "\n      " + secret + "\n"
	}
	tests := []struct {
		name string
		yaml string
		want []identity.Key
		err  string
	}{
		// The default key is in no line of the file.
		{name: "default key from the environment", yaml: upstreamOnly,
			err: "config.yaml: identity.keys[0].secret_env: environment variable SHOPEDGE_SECRET is not set; put a random secret of at least 32 bytes in it (for example: openssl rand -base64 48)"},
		{name: "environment", yaml: key("k1", "secret_env: SE_OK"), want: []identity.Key{{ID: "k1", Secret: []byte(long)}}},
		{name: "missing environment variable", yaml: key("k1", "secret_env: SE_MISSING"),
			err: "config.yaml:6:19: identity.keys[0].secret_env: environment variable SE_MISSING is not set; put a random secret of at least 32 bytes in it (for example: openssl rand -base64 48)"},
		{name: "blank environment variable", yaml: key("k1", "secret_env: SE_BLANK"),
			err: "config.yaml:6:19: identity.keys[0].secret_env: environment variable SE_BLANK is not set; put a random secret of at least 32 bytes in it (for example: openssl rand -base64 48)"},
		{name: "short secret", yaml: key("k1", "secret_env: SE_SHORT"),
			err: `config.yaml:5:7: identity.keys[0]: secret of key "k1" is 5 bytes; use at least 32 random bytes`},
		{name: "file, trimmed", yaml: key("k1", "secret_file: "+filepath.Join(dir, "ok")), want: []identity.Key{{ID: "k1", Secret: []byte(long)}}},
		{name: "short file", yaml: key("k1", "secret_file: "+filepath.Join(dir, "short")),
			err: `config.yaml:5:7: identity.keys[0]: secret of key "k1" is 4 bytes; use at least 32 random bytes`},
		{name: "missing file", yaml: key("k1", "secret_file: "+filepath.Join(dir, "none")),
			err: "config.yaml:6:20: identity.keys[0].secret_file: cannot read the secret: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{name: "every problem at once", yaml: upstreamOnly + "identity:\n  keys:\n" +
			"    - {id: new, secret_env: SE_MISSING}\n" +
			"    - {id: cur, secret_env: SE_OK}\n" +
			"    - {id: old, secret_file: " + filepath.Join(dir, "short") + "}\n",
			err: "config.yaml:5:29: identity.keys[0].secret_env: environment variable SE_MISSING is not set; put a random secret of at least 32 bytes in it (for example: openssl rand -base64 48)\n" +
				`config.yaml:7:7: identity.keys[2]: secret of key "old" is 4 bytes; use at least 32 random bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, err := LoadKeys(mustParse(t, tt.yaml), getenv)
			if tt.err != "" {
				var ps Problems
				if !errors.As(err, &ps) {
					t.Fatalf("got %v, want Problems", err)
				}
				if got := err.Error(); got != tt.err {
					t.Errorf("got\n%s\nwant\n%s", got, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(keys, tt.want) {
				t.Errorf("got %v, want %v", keys, tt.want)
			}
		})
	}
}
