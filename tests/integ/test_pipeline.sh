#!/usr/bin/env bash
# tests/integ/test_pipeline.sh SNN SOURCE_DIR: a small Diehl & Cook run on
# MNIST through the command line (learn, assign, test phases), read back with
# h5py: feature shapes, labels against the dataset order, weight snapshots
# within the rule's bounds and normalised, the vote results consistent.
set -u
snn=$(realpath "$1") src=$(realpath "$2")
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if [ ! -d "$src/../shared/data/mnist" ]; then
  echo "pipeline: MNIST not found at $src/../shared/data/mnist"; echo "pipeline: 0 passed, 1 failed"; exit 1
fi
"$snn" run "$src/tests/data/dc_small.cfg" -o dc.h5 -q --threads 2
rc=$?
[ $rc -eq 0 ] || { echo "pipeline: snn run exited $rc"; echo "pipeline: 0 passed, 1 failed"; exit 1; }
"$py" - dc.h5 <<'PY'
import sys, gzip, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
fails, passed = [], 0
def check(name, ok):
    global passed
    if ok: passed += 1
    else: fails.append(name)
for ph, n in (("assign", 40), ("test", 30)):
    c = f[f"features/{ph}/exc"]
    check(f"{ph} counts shape", c.shape == (n, 20) and c.dtype == np.uint32)
    check(f"{ph} labels", f[f"features/{ph}/labels"].shape == (n,))
check("learn stores no features", "learn" not in f["features"] or "exc" not in f["features/learn"])
# the test phase shows the test set in dataset order
idx = f["features/test/indices"][()]
check("test phase in dataset order", list(idx) == list(range(30)))
w = f["weights/input/values"][()]
check("weight snapshots over time", w.shape[0] >= 2 and w.shape[1:] == (784, 20))
check("weights within [0, w_max]", w.min() >= 0 and w.max() <= 1.0)
check("weights moved", not np.array_equal(w[0], w[-1]))
check("normalised to 78 after learning", np.allclose(w[-1].sum(axis=0), 78.0, rtol=1e-9))
v = f["results/vote"]
acc = v.attrs["accuracy"]
conf = v["confusion"][()]
pred = v["predictions"][()]
lab = f["features/test/labels"][()]
check("confusion counts the test set", conf.sum() <= 30 and conf.shape == (10, 10))
check("accuracy matches predictions", abs(acc - np.mean(pred.astype(np.int64) == lab)) < 1e-12)
check("assignments per neuron", v["assignments"].shape == (20,))
print("\n".join("FAIL " + x for x in fails))
print(f"pipeline: {passed} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
PY
