#!/usr/bin/env bash
# tests/integ/test_analyze_cli.sh SNN SOURCE_DIR: `snn analyze` and `snn plot` as a
# user meets them: help, a small network run (tests/data/cli_small.cfg) and a
# small Diehl & Cook run (dc_small.cfg, when MNIST is present) and a small
# guided-learning run (ghl_small.cfg) analysed (JSON
# parsed by Python, /analysis read back with h5py and checked against numpy
# on the recorded spikes) and plotted (PNG signature and size), a second
# analyze replacing /analysis, and the exit statuses of bad input.
set -u
snn=$(realpath "$1") src=$(realpath "$2")
data=$src/tests/data
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Sanitizer builds: fontconfig (under cairo's toy text API) keeps one-time
# static caches until FcFini(); not leaks of ours.
echo "leak:libfontconfig.so" > lsan.supp
export LSAN_OPTIONS="suppressions=$work/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
pass=0 failed=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { failed=$((failed + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

out=$("$snn" --help); check "--help lists analyze and plot" grep -q "analyze OUT.h5" <<<"$out"
out=$("$snn" help analyze); check "help analyze" grep -q -- "--json" <<<"$out"
out=$("$snn" analyze --help); check "analyze --help" grep -q "usage: snn analyze" <<<"$out"
out=$("$snn" plot --help); check "plot --help" grep -q "usage: snn plot" <<<"$out"

"$snn" analyze >/dev/null 2>&1; check "analyze without a file exits 2" test $? -eq 2
"$snn" analyze --bin-ms -3 x.h5 >/dev/null 2>&1; check "analyze --bin-ms -3 exits 2" test $? -eq 2
err=$("$snn" analyze missing.h5 2>&1 >/dev/null); rc=$?
check "analyze of a missing file exits 1" test $rc -eq 1
check "  and names the file" grep -q "missing.h5: No such file" <<<"$err"
echo "not hdf5" > text.h5
err=$("$snn" plot text.h5 2>&1 >/dev/null); rc=$?
check "plot of a non-HDF5 file exits 1" test $rc -eq 1
check "  and says so" grep -q "not an HDF5 file" <<<"$err"

"$snn" run "$data/cli_small.cfg" -o small.h5 -q >/dev/null 2>&1
check "snn run cli_small.cfg" test -f small.h5
"$snn" analyze small.h5 --json > small.json; rc=$?
check "analyze --json exits 0" test $rc -eq 0
check "no small.h5.tmp left" test ! -e small.h5.tmp
"$py" - small.h5 small.json <<'PY'
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
j = json.load(open(sys.argv[2]))
fails, passed = [], 0
def check(name, ok):
    global passed
    if ok: passed += 1
    else: fails.append(name)
check("json lists spikes", "spikes" in j["made"])
dur = f.attrs["duration_ms"]
for pop in f["spikes"]:
    ids = f[f"spikes/{pop}/node_ids"][()]
    t = f[f"spikes/{pop}/timestamps"][()]
    n = int(f[f"populations/{pop}"].attrs["size"])
    cnt = np.bincount(ids.astype(np.int64), minlength=n)
    rate = f[f"analysis/{pop}/rate_hz"][()]
    check(f"{pop} rate = count / duration", np.allclose(rate, cnt / (dur / 1000.0), rtol=1e-12))
    check(f"{pop} json mean rate", abs(j["spikes"][pop]["mean_rate_hz"] - rate.mean()) < 1e-6 * max(1, rate.mean()))
    check(f"{pop} silent", j["spikes"][pop]["n_silent"] == int((cnt == 0).sum()))
    cv = f[f"analysis/{pop}/cv_isi"][()]
    i = int(np.argmax(cnt))
    isi = np.diff(np.sort(t[ids == i]))
    check(f"{pop} cv of neuron {i}", abs(cv[i] - isi.std(ddof=1) / isi.mean()) < 1e-9)
    check(f"{pop} attrs", abs(f[f"analysis/{pop}"].attrs["mean_rate_hz"] - rate.mean()) < 1e-9 * max(1, rate.mean()))
# The Poisson drive: CV of ISIs near 1 (thousands of intervals).
if "drive" in j["spikes"]:
    check("poisson drive CV ~ 1", abs(j["spikes"]["drive"]["mean_cv_isi"] - 1) < 0.1)
print(f"analyze small: {passed} passed, {len(fails)} failed {fails}")
sys.exit(1 if fails else 0)
PY
check "analyze results match numpy on the recorded spikes" test $? -eq 0

# A second analyze replaces /analysis (different seed recorded).
"$snn" analyze small.h5 --seed 7 > table.txt; rc=$?
check "second analyze (table) exits 0" test $rc -eq 0
check "  table names the populations" grep -q "mean_rate_hz" table.txt
seed=$("$py" -c "import h5py; print(int(h5py.File('small.h5')['analysis'].attrs['seed']))")
check "  /analysis replaced (seed 7)" test "$seed" = 7

"$snn" plot small.h5 -o figs > plot.txt; rc=$?
check "plot exits 0" test $rc -eq 0
check "  made a raster" grep -q "figs/raster_exc.png" plot.txt
"$py" - figs <<'PY'
import sys, os, struct
d = sys.argv[1]
names = sorted(os.listdir(d))
bad = []
for n in names:
    b = open(os.path.join(d, n), "rb").read(24)
    w, h = struct.unpack(">II", b[16:24])
    if b[:8] != b"\x89PNG\r\n\x1a\n" or w < 100 or h < 100:
        bad.append(n)
print("figures:", names, "bad:", bad)
sys.exit(1 if bad or not names else 0)
PY
check "  every figure is a PNG" test $? -eq 0

# Everything the other parts of a run may write (probes, readout), made with
# h5py: the JSON must parse and hold every section, and plot must make every
# figure.
"$py" - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(5)
f = h5py.File("synth.h5", "w")
proto = rng.uniform(0, 6, (10, 30))
y = np.arange(200) % 10
f["probe/labels"] = y.astype(np.uint64)
f["probe/samples"] = np.array([0, 500, 1000], dtype=np.uint64)
f["probe/hid/counts"] = np.stack([rng.poisson(proto[y] * s / 2) for s in range(3)]).astype(np.uint32)
f["config"] = 'evaluate = { assign = "tr"; test = "te"; };'
for ph in ("tr", "te"):
    f[f"features/{ph}/hid"] = rng.poisson(proto[y]).astype(np.uint32)
    f[f"features/{ph}/labels"] = y.astype(np.uint64)
for k in ("loss", "train_accuracy", "test_accuracy", "learning_rate", "epoch_time_s"):
    f[f"readout/curves/{k}"] = np.linspace(1, 0.5, 6)
f["readout/alignment/W0"] = np.linspace(0.1, 0.4, 50)
f["readout/alignment/step"] = np.arange(50, dtype=np.uint64)
g = f.create_group("readout/results"); g.attrs["accuracy"] = 0.9
g["confusion"] = np.eye(10) * 20
PY
"$snn" analyze synth.h5 --json > synth.json; rc=$?
check "analyze of probes, features and readout exits 0" test $rc -eq 0
"$py" - synth.h5 synth.json <<'PY'
import sys, json, h5py, numpy as np
j = json.load(open(sys.argv[2])); f = h5py.File(sys.argv[1], "r")
ok = j["made"] == ["representation", "emergence", "alignment"]
ok &= len(j["emergence"]["hid"]["linear_probe_accuracy"]) == 3
ok &= j["emergence"]["samples"] == [0, 500, 1000]
ok &= j["emergence"]["hid"]["linear_probe_accuracy"][2] > 0.9
ok &= j["representation"]["hid"]["knn_accuracy"] > 0.9
ok &= abs(j["alignment"]["W0"]["mean"] - 0.25) < 1e-12
ok &= j["stored_results"]["readout_accuracy"] == 0.9
ok &= f["analysis/emergence/hid/knn_accuracy"].shape == (3,)
print("synthetic json:", "ok" if ok else "FAILED", j["made"])
sys.exit(0 if ok else 1)
PY
check "  JSON holds every section" test $? -eq 0
"$snn" plot synth.h5 -o sfigs > splot.txt; rc=$?
check "plot of probes and readout exits 0" test $rc -eq 0
for fig in emergence learning_curves alignment confusion_readout; do
  check "  made $fig.png" grep -q "sfigs/$fig.png" splot.txt
done
check "  no raster without spikes" test ! -e sfigs/raster_spikes.png

# Guided learning (tests/data/ghl_small.cfg, Fashion-MNIST): the guidance
# section and figure, checked against the /ghl record with numpy.
"$snn" run "$data/ghl_small.cfg" -o ghl.h5 -q -s 'phases[0].samples=200' >/dev/null 2>ghl.err
check "snn run ghl_small.cfg (needed below)" test -f ghl.h5
[ -f ghl.h5 ] || head -5 ghl.err
if [ -f ghl.h5 ]; then
  "$snn" analyze ghl.h5 --json > ghl.json; rc=$?
  check "analyze of a guided run exits 0" test $rc -eq 0
  "$py" - ghl.h5 ghl.json <<'PY'
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r"); j = json.load(open(sys.argv[2]))
g = f["ghl/xe"]; a = f["analysis/guidance/xe"]
loc = np.diff(g["local"][()], prepend=0).astype(float)
rev = np.diff(g["reversed"][()], prepend=0) / loc
gat = np.diff(g["gated"][()], prepend=0) / loc
ok = "guidance" in j["made"] and a.attrs["n_batches"] == 13 and loc.min() > 0
ok &= np.allclose(a["reversed_fraction"][()], rev, rtol=1e-12, atol=0)
ok &= np.allclose(a["gated_fraction"][()], gat, rtol=1e-12, atol=0)
ok &= 0.05 < rev.mean() < 0.95          # the sign both agrees and disagrees
acc = g["accuracy"][()]
ok &= abs(a.attrs["accuracy_first"] - acc[:1].mean()) < 1e-12
ok &= abs(a.attrs["accuracy_last"] - acc[-1:].mean()) < 1e-12
ok &= abs(j["guidance"]["xe"]["reversed_last"] - rev[-1]) < 1e-6
ok &= a.attrs["samples"] == 200
print("guidance ok" if ok else "guidance FAILED", rev)
sys.exit(0 if ok else 1)
PY
  check "  guidance fractions match numpy on /ghl" test $? -eq 0
  "$snn" plot ghl.h5 -o gfigs > gplot.txt; rc=$?
  check "plot of a guided run exits 0" test $rc -eq 0
  check "  guided learning figure made" grep -q "gfigs/ghl_xe.png" gplot.txt
fi

if [ -d "$src/../shared/data/mnist" ]; then
  "$snn" run "$data/dc_small.cfg" -o dc.h5 -q --threads 2 >/dev/null 2>dc.err
  check "snn run dc_small.cfg (needed below)" test -f dc.h5
  [ -f dc.h5 ] || head -5 dc.err
fi
if [ -f dc.h5 ]; then
  "$snn" analyze dc.h5 --json > dc.json; rc=$?
  check "analyze of a Diehl & Cook run exits 0" test $rc -eq 0
  "$py" - dc.h5 dc.json <<'PY'
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r"); j = json.load(open(sys.argv[2]))
r = f["analysis/representation/exc"]
ok = r.attrs["train_phase"] == "assign"   # a str for h5py (variable-length UTF-8)
ok &= 0.0 <= r.attrs["linear_probe_accuracy"] <= 1.0
ok &= f["analysis/representation/exc/selectivity"].shape == (20,)
mc = f["analysis/receptive_fields/input/mean_cosine"][()]
ok &= mc.shape == f["weights/input/times"].shape
# mean cosine of the last snapshot, recomputed with numpy
w = f["weights/input/values"][-1]
u = w / np.linalg.norm(w, axis=0)
g = u.T @ u
iu = np.triu_indices(20, 1)
ok &= abs(g[iu].mean() - mc[-1]) < 1e-9
ok &= "representation" in j["made"] and "receptive_fields" in j["made"]
print("dc analysis ok" if ok else "dc analysis FAILED")
sys.exit(0 if ok else 1)
PY
  check "  representation and receptive fields match numpy" test $? -eq 0
  "$snn" plot dc.h5 -o dcfigs > dcplot.txt; rc=$?
  check "plot of a Diehl & Cook run" test $rc -eq 0
  check "  receptive-field grid made" grep -q "dcfigs/rf_input.png" dcplot.txt
  check "  vote confusion made" grep -q "dcfigs/confusion_vote.png" dcplot.txt
elif [ ! -d "$src/../shared/data/mnist" ]; then
  echo "skip Diehl & Cook part: MNIST not found at $src/../shared/data/mnist"
fi

echo "analyze: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
