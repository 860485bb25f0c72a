#!/usr/bin/env python3
"""Tunes the session strategy's defaults on the TRAINING parts of the development clickstreams
only, as recorded in the README ("Offline evaluation", "How the defaults were chosen").

    go build -o /tmp/shopedge ./cmd/shopedge
    python3 proxy/recommend/testdata/tuning/tune.py /tmp/shopedge [START_JSON [SWEEPS]]

1. Validation folds carved from the training parts with strong.py's carve (the sessions starting
   in a window of 10% of the training span, trained on those starting before it): windows 1-3
   for YOOCHOOSE (the training file yoochoose-100k-train-tr.csv), 1-6 for Diginetica (the
   sessions reference.py's split leaves for training). The test parts are never read.
2. The references scored on the same folds: strong.py's V-SKNN, STAN and V-STAN with the
   parameters reference.py chose (on its own training-only folds); the best per dataset and
   metric is the bar.
3. One coordinate-descent sweep per SWEEPS over the grids below (`shopedge eval -test` on every
   fold, session strategy only), keeping the configuration with the highest smallest ratio
   (HR@20 and MRR@20, each dataset) to the bar, ties broken by the mean ratio.
Needs /work/shared/tools/sessionrec (or SESSIONREC) and the clickstreams (CLICKSTREAMS).
"""
import csv, json, os, subprocess, sys, tempfile

SR = os.environ.get("SESSIONREC", "/work/shared/tools/sessionrec")
D = os.environ.get("CLICKSTREAMS", "/work/shared/clickstreams")
sys.path.insert(0, SR)
import receval, strong  # noqa: E402

SE = sys.argv[1] if len(sys.argv) > 1 else "shopedge"
START = json.loads(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else {
    "recency-decay": 1.5, "position-decay": 0.75, "time-decay": 20, "insert-decay": 1.5, "idf": 5,
    "blend": 0.3, "remind": 0.5, "remind-repeat": 16, "k": 100, "sample": 250}
SWEEPS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
SETS = [("yc", os.path.join(D, "yoochoose-100k-train-tr.csv"), os.path.join(D, "yoochoose-100k-train-valid.csv"), 3),
        ("dg", os.path.join(D, "diginetica-sample-train.csv"), None, 6)]
# reference.py's choices (its stdout), tuned on training-only folds.
PARAMS = {
    "yc": {"v-sknn": dict(k=100, sample=1000, weighting="log", score="quadratic", idf=10, similarity="vec"),
           "stan": dict(k=500, sample=500, l1=0.5, l2=20, l3=2),
           "v-stan": dict(k=500, sample=5000, l1=8, l2=10, l3=4, l_ipw=0.5, l_idf=10, similarity="cosine")},
    "dg": {"v-sknn": dict(k=500, sample=5000, weighting="same", score="linear", idf=10, similarity="vec"),
           "stan": dict(k=500, sample=5000, l1=4, l2=80, l3=1),
           "v-stan": dict(k=1500, sample=5000, l1=4, l2=80, l3=1, l_ipw=8, l_idf=2, similarity="cosine")}}
GRID = [("recency-decay", [-1, 0.5, 1, 1.5, 2, 3, 4, 8]),
        ("position-decay", [-1, 0.5, 0.75, 1, 1.5, 2, 4, 8]),
        ("time-decay", [-1, 2.5, 5, 10, 20, 40, 80, 160, 320]),  # days
        ("insert-decay", [-1, 0.5, 1, 1.5, 2, 3, 4, 8]),
        ("idf", [-1, 0.5, 1, 2, 5, 10]),
        ("blend", [-1, 0.05, 0.1, 0.2, 0.3, 0.5]),
        ("remind", [-1, 0.05, 0.1, 0.2, 0.3, 0.5, 1]),
        ("remind-repeat", [-1, 1, 2, 4, 8, 16]),
        ("k", [100, 200, 500]),
        ("sample", [250, 500])]

tmp = tempfile.mkdtemp(prefix="shopedge-tune-")
folds, bar = {}, {}
for name, trp, tep, nf in SETS:
    tr, _ = receval.split(receval.read(trp), receval.read(tep) if tep else None)
    rows = list(csv.DictReader(open(trp)))
    head = ["session_id", "timestamp", "event", "item_id", "category_id"]
    tot = {m: [0, 0, 0.0] for m in PARAMS[name]}
    folds[name] = []
    for j in range(nf):
        fit, val = strong.carve(tr, 0.10 * (j + 1), 0.10 * j)
        paths = []
        for part, keep in (("fit", fit), ("val", val)):
            p = os.path.join(tmp, "%s-%d-%s.csv" % (name, j, part))
            with open(p, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(head)
                for r in rows:
                    if r["session_id"] in keep:
                        w.writerow([r[h] for h in head])
            paths.append(p)
        folds[name].append(paths)
        ix, cs = strong.Index(fit), strong.cases(fit, val)
        for m, p in PARAMS[name].items():
            a = strong.run_shared(ix, [strong.CLASSES[m](ix, **p)], cs)[0]
            tot[m][0] += a.n
            tot[m][1] += a.hr[20]
            tot[m][2] += a.mrr[20]
    bar[name] = (max(t[2] / t[0] for t in tot.values()), max(t[1] / t[0] for t in tot.values()))
    print("%s: %d folds, %d predictions; best reference MRR@20 %.4f HR@20 %.4f" % (
        name, nf, next(iter(tot.values()))[0], bar[name][0], bar[name][1]), flush=True)


def flags(p):
    out = []
    for k, v in p.items():
        if k == "time-decay":
            v = "-1s" if v < 0 else "%gh" % (v * 24)
        out += ["-" + k, str(v)]
    return out


cache = {}


def run(p):
    key = json.dumps(p, sort_keys=True)
    if key not in cache:
        res = {}
        for ds, fl in folds.items():
            n = h = m = 0.0
            for fit, val in fl:
                out = subprocess.run([SE, "eval", "-events", fit, "-test", val, "-strategies", "session", "-json"] + flags(p),
                                     capture_output=True, text=True, check=True).stdout
                r = json.loads(out)[0]
                n += r["predictions"]
                h += r["hr20"] * r["predictions"]
                m += r["mrr20"] * r["predictions"]
            res[ds] = (m / n, h / n)
        ratios = [res[d][i] / bar[d][i] for d in res for i in (0, 1)]
        cache[key] = (min(ratios) + 1e-3 * sum(ratios) / len(ratios), res)
    return cache[key]


best = dict(START)
for sweep in range(SWEEPS):
    for param, values in GRID:
        if best[param] not in values:
            values = values + [best[param]]
        scored = [(run(dict(best, **{param: v}))[0], v) for v in values]
        top = max(s for s, _ in scored)
        if run(best)[0] < top:
            best[param] = [v for s, v in scored if s == top][0]
        o, r = run(best)
        print("sweep %d %-15s %s -> %s  objective %.4f  yc MRR@20 %.4f HR@20 %.4f  dg MRR@20 %.4f HR@20 %.4f" % (
            sweep, param, [(v, round(s, 4)) for s, v in scored], best[param], o, r["yc"][0], r["yc"][1], r["dg"][0], r["dg"][1]), flush=True)
o, r = run(best)
print("chosen %s\n  objective %.4f  yc MRR@20 %.4f HR@20 %.4f  dg MRR@20 %.4f HR@20 %.4f" % (
    json.dumps(best), o, r["yc"][0], r["yc"][1], r["dg"][0], r["dg"][1]))
