#!/usr/bin/env bash
# tests/integ/test_pipeline.sh SNN SOURCE_DIR: a small Diehl & Cook run on
# MNIST through the command line (learn, assign, test phases), read back with
# h5py: feature shapes, labels against the dataset order, weight snapshots
# within the rule's bounds and normalised, the vote results consistent.
# Then tests/data/dc_snap.cfg (emergence snapshots and a probe) on 2 threads
# and without the probe on 1 thread: the /weights and /probe layout, and the
# same learnt weights and test features either way.
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
"$snn" run "$src/tests/data/dc_snap.cfg" -o snap.h5 -q --threads 2 &&
  "$snn" run "$src/tests/data/dc_snap.cfg" -o snap0.h5 -q --threads 1 -s 'phases[0].probe=0'
rc=$?
[ $rc -eq 0 ] || { echo "pipeline: snn run (snapshots) exited $rc"; echo "pipeline: 0 passed, 1 failed"; exit 1; }
"$py" - dc.h5 snap.h5 snap0.h5 "$src/../shared/data/mnist" <<'PY'
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
a, b = h5py.File(sys.argv[2], "r"), h5py.File(sys.argv[3], "r")
smp = a["weights/input/samples"][()]
check("snapshot samples", list(smp) == [0, 10, 20, 30, 40] and smp.dtype == np.uint64)
check("snapshot values", a["weights/input/values"].shape == (5, 784, 20))
t = a["weights/input/times"][()]
check("snapshot times ascending from 0", t[0] == 0 and np.all(np.diff(t) > 0))
check("probe counts [S, N, neurons]", a["probe/exc/counts"].shape == (5, 8, 20)
      and a["probe/exc/counts"].dtype == np.uint32)
check("probe samples", list(a["probe/samples"][()]) == list(smp))
with gzip.open(sys.argv[4] + "/t10k-labels-idx1-ubyte.gz") as g:
    test_labels = np.frombuffer(g.read(), np.uint8, offset=8)
check("probe labels: the first 8 test images", list(a["probe/labels"][()]) == list(test_labels[:8]))
check("probe responds", a["probe/exc/counts"][()].sum() > 0)
check("no probe without probe", "probe" not in b)
check("probe leaves learning alone",
      np.array_equal(a["weights/input/values"][()], b["weights/input/values"][()]))
check("same test features", np.array_equal(a["features/test/exc"][()], b["features/test/exc"][()]))
print("\n".join("FAIL " + x for x in fails))
print(f"pipeline: {passed} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
PY
