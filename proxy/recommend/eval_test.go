package recommend

import (
	"os"
	"strings"
	"testing"
)

func evalSample(t *testing.T) map[string]EvalResult {
	t.Helper()
	f, err := os.Open("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, st, err := Evaluate(f, "sample.csv", nil, "", EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.TestSessions < 100 || st.TrainEvents < 10000 {
		t.Fatalf("split: %+v", st)
	}
	out := map[string]EvalResult{}
	for _, r := range res {
		out[r.Strategy] = r
	}
	return out
}

// TestEvaluateSample: on the sample clickstream every strategy is
// measured on the same predictions, the session strategy at least matches
// plain session kNN on HR@20 and MRR@20, and beats popularity many times.
func TestEvaluateSample(t *testing.T) {
	res := evalSample(t)
	for _, name := range []string{"popularity baseline", "sknn baseline", "session", "also_viewed", "also_bought", "recently_viewed", "popular", "trending"} {
		r, ok := res[name]
		if !ok {
			t.Fatalf("no result for %s", name)
		}
		if r.Predictions != res["session"].Predictions {
			t.Errorf("%s: %d predictions, session %d", name, r.Predictions, res["session"].Predictions)
		}
		for _, v := range []float64{r.HR10, r.MRR10, r.HR20, r.MRR20, r.Coverage} {
			if v < 0 || v > 1 {
				t.Errorf("%s: a figure out of [0, 1]: %+v", name, r)
			}
		}
		if r.HR10 > r.HR20 || r.MRR10 > r.MRR20 || r.MRR20 > r.HR20 {
			t.Errorf("%s: inconsistent figures %+v", name, r)
		}
	}
	s, sknn, pop := res["session"], res["sknn baseline"], res["popularity baseline"]
	if s.HR20 < sknn.HR20 || s.MRR20 < sknn.MRR20 {
		t.Errorf("session (HR@20 %.4f, MRR@20 %.4f) below plain session kNN (%.4f, %.4f)", s.HR20, s.MRR20, sknn.HR20, sknn.MRR20)
	}
	if s.HR20 < 2.5*pop.HR20 || s.MRR20 < 4*pop.MRR20 {
		t.Errorf("session (%.4f, %.4f) not many times popularity (%.4f, %.4f)", s.HR20, s.MRR20, pop.HR20, pop.MRR20)
	}
}

// TestEvaluateExplicitTest: with a test file, all of the events file
// trains, and unknown test products are dropped.
func TestEvaluateExplicitTest(t *testing.T) {
	t.Parallel()
	train := "session_id,timestamp,event,item_id,category_id\n" +
		"a,100,view,x,c1\na,110,view,y,c1\nb,120,view,x,c1\nb,130,view,y,c1\nc,140,view,y,\nc,150,cart,z,c2\n"
	test := "session_id,timestamp,event,item_id,category_id\n" +
		"t,2026-11-23T10:00:00Z,view,x,c1\nt,2026-11-23T10:01:00Z,view,unknown,\nt,2026-11-23T10:02:00Z,view,y,c1\n" +
		"u,2026-11-23T11:00:00Z,view,x,\n"
	res, st, err := Evaluate(strings.NewReader(train), "train.csv", strings.NewReader(test), "test.csv", EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.TrainEvents != 6 || st.TestSessions != 1 || st.TestEvents != 2 || st.Items != 3 {
		t.Errorf("stats = %+v, want 6 training events, 1 test session of 2 known events, 3 products", st)
	}
	for _, r := range res {
		if r.Predictions != 1 {
			t.Errorf("%s: %d predictions, want 1 (x -> y)", r.Strategy, r.Predictions)
		}
		if r.Strategy == "also_viewed" && (r.HR10 != 1 || r.MRR10 != 1) {
			t.Errorf("also_viewed after x must rank y first: %+v", r)
		}
	}
}

func TestEvaluateBadInput(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"header":    "session,time,event,item,category\n",
		"timestamp": "session_id,timestamp,event,item_id,category_id\na,yesterday,view,x,\n",
		"event":     "session_id,timestamp,event,item_id,category_id\na,1,view,x,\na,2,click,x,\n",
		"fields":    "session_id,timestamp,event,item_id,category_id\na,1,view\n",
	} {
		_, _, err := Evaluate(strings.NewReader(data), "bad.csv", nil, "", EvalOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), "bad.csv:") {
			t.Errorf("%s: err = %v, want one naming bad.csv and the line", name, err)
		}
	}
	_, _, err := Evaluate(strings.NewReader("session_id,timestamp,event,item_id,category_id\na,1,view,x,\na,2,click,x,\n"), "bad.csv", nil, "", EvalOptions{})
	if err == nil || !strings.Contains(err.Error(), "bad.csv:3:") {
		t.Errorf("err = %v, want bad.csv:3", err)
	}
}

// BenchmarkRecommend measures one recommendation call of each strategy on
// an engine trained with the sample clickstream.
func BenchmarkRecommend(b *testing.B) {
	e := New(Config{})
	f, err := os.Open("testdata/sample.csv")
	if err != nil {
		b.Fatal(err)
	}
	known := evalCatalog{}
	var views []ID
	err = readClicks(f, "sample.csv", func(ev clickEvent) error {
		e.Record(Event{Session: uint64(len(ev.session)*7919) ^ uint64(ev.at/1800), Item: ev.item, Categories: []ID{ev.cat}, Kind: ev.kind, Time: t0})
		known[ev.item] = ev.cat
		if len(views) < 6 {
			views = append(views, ev.item)
		}
		return nil
	})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range Strategies {
		b.Run(string(s), func(b *testing.B) {
			ctx := Context{Now: t0, Item: views[len(views)-1], Views: views, Recent: views, Cart: views[:1], Category: known[views[0]]}
			req := Request{Strategies: []Strategy{s, Popular}, N: 8, Personal: true}
			ctx.Interest = InterestFunc(func(ID) float64 { return 1 })
			b.ReportAllocs()
			for b.Loop() {
				if got := e.Recommend(ctx, req, known); len(got) != 8 {
					b.Fatalf("%d products", len(got))
				}
			}
		})
	}
}
