package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/recommend"
)

// TestConvert converts small excerpts of each dataset, checked by hand,
// and feeds the result to the evaluation's reader.
func TestConvert(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		format string
		files  []string
		want   string
	}{
		{"retailrocket", []string{"item_properties.csv", "events.csv"}, `session_id,timestamp,event,item_id,category_id
s1,1433221332,view,355908,1173
s1,1433221955,view,111016,
s1,1433222147,cart,111016,
s3,1433222276,purchase,248676,491
s4,1433224214,view,248676,491
s2,1433229999,view,355908,1173
`},
		{"diginetica", []string{"train-item-views.csv", "train-purchases.csv", "product-categories.csv"}, `session_id,timestamp,event,item_id,category_id
s1,1462752075,view,32118,
s2,1462752243,view,32118,
s1,1462752526,view,81766,1096
s1,1462753031,view,31331,1288
s1,1462753100,purchase,31331,1288
`},
	} {
		t.Run(c.format, func(t *testing.T) {
			t.Parallel()
			var in []string
			for _, f := range c.files {
				in = append(in, filepath.Join("testdata", f))
			}
			out := filepath.Join(t.TempDir(), "out.csv")
			if err := run(c.format, out, 30*time.Minute, in); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("converted:\n%s\nwant:\n%s", got, c.want)
			}
			f, _ := os.Open(out)
			defer f.Close()
			if _, _, err := recommend.Evaluate(f, out, nil, "", recommend.EvalOptions{}); err != nil {
				t.Errorf("the evaluation cannot read the output: %v", err)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("timestamp,visitorid,event,itemid,transactionid\n1,2,click,3,\n"), 0o644)
	for _, c := range []struct{ format, file, want string }{
		{"retailrocket", bad, `bad.csv:2: unknown event "click"`},
		{"diginetica", bad, "not a Diginetica file"},
		{"movielens", bad, `-format "movielens"`},
	} {
		err := run(c.format, filepath.Join(dir, "out.csv"), time.Minute, []string{c.file})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.format, err, c.want)
		}
	}
}
