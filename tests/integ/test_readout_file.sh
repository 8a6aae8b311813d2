#!/usr/bin/env bash
# tests/integ/test_readout_file.sh SNN SOURCE_DIR: readout input "file" --
# a readout trained on the features an earlier run stored -- gives exactly
# the readout of the hybrid run that stored them (same readout parameters
# and seed: same weights, curves and predictions, bit for bit), and on a
# perturbed test phase the accuracy that run reported under that
# perturbation; bad files, phases and populations are refused clearly.
set -u
snn=$(realpath "$1") src=$(realpath "$2")
py=/usr/bin/python3
mnist=$src/../shared/data/mnist
die() { echo "test_readout_file: $*" >&2; exit 1; }
[ -d "$mnist" ] || die "MNIST not found at $mnist"
work=$(mktemp -d ./test_readout_file.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || die "no work directory"

ro='train = "assign"; test = "test"; epochs = 20; lr = 0.01; steps = 10; hidden = [12];
     normalize = "zscore"; record_weights = true;'
"$snn" run "$src/tests/data/dc_hybrid.cfg" -q -t 2 -o hyb.h5 -s "readout={ $ro }" ||
    die "hybrid run failed"
mkdir sub
cat > sub/ro.cfg <<EOF
# the readout of hyb.h5's features, again (paths relative to this file)
simulation = { seed = 1; };
readout = { input = "file"; file = "../hyb.h5"; $ro };
output = { path = "ro.h5"; };
EOF
"$snn" run sub/ro.cfg -q -t 1 -o ro.h5 || die "readout on the file's features failed"
"$snn" run sub/ro.cfg -q -o rop.h5 -s 'readout.test="test_perturb2"' -s 'readout.populations=["exc"]' ||
    die "readout on a perturbed phase failed"
"$py" - hyb.h5 ro.h5 rop.h5 <<'PY' || die "the readouts differ"
import sys, h5py, numpy as np
h, r, p = (h5py.File(x, "r") for x in sys.argv[1:4])
names = []
h["readout"].visit(lambda n: names.append(n) if isinstance(h["readout"][n], h5py.Dataset) else None)
assert any(n.startswith("weights") for n in names), names
for n in names:
    if n == "curves/epoch_time_s":
        continue
    a, b = h["readout"][n][()], r["readout"][n][()]
    assert a.shape == b.shape and np.array_equal(a, b), n
    if not n.startswith(("curves/test", "results")):   # what the test set does not change
        assert np.array_equal(a, p["readout"][n][()]), ("perturbed", n)
ra = r["readout"].attrs
assert ra["input"] == "file" and ra["train_phase"] == "assign" and ra["test_phase"] == "test"
assert ra["features_file"].endswith("/hyb.h5"), ra["features_file"]
acc = h["readout/results"].attrs["accuracy"]
assert r["readout/results"].attrs["accuracy"] == acc
rob = h["results/robustness/readout/accuracy"][()]
assert p["readout/results"].attrs["accuracy"] == rob[2], (p["readout/results"].attrs["accuracy"], rob)
print("readout from file: identical; accuracy", acc, "perturbed", rob[2])
PY

# Refusals: exit 1 with the file and what is missing, no result file.
expect() {
    local code=$1 msg=$2
    shift 2
    "$snn" run sub/ro.cfg -q -o bad.h5 "$@" 2>err.txt
    local rc=$?
    [ $rc -eq "$code" ] || die "$* exited $rc, expected $code: $(cat err.txt)"
    grep -q -- "$msg" err.txt || die "$*: unclear message: $(cat err.txt)"
    [ ! -e bad.h5 ] && [ ! -e bad.h5.tmp ] || die "$*: left a result file"
}
expect 1 "no features of phase 'learnt'" -s 'readout.train="learnt"'
expect 1 "no features of population 'inh' in phase 'assign'" -s 'readout.populations=["inh"]'
expect 1 "nothing.h5: No such file" -s 'readout.file="nothing.h5"'
echo "not hdf5" > text.h5
expect 1 "not an HDF5 file" -s "readout.file=\"$PWD/text.h5\""
expect 2 "only used with input = \"file\"" -s 'readout.input="pixels"' \
    -s 'data={ dataset = "fashion_mnist"; }'
expect 2 "robustness perturbs images" -s 'robustness={ perturbations = ["gauss:0.1"]; }'
expect 2 "listed twice" -s 'readout.populations=["exc", "exc"]'
echo "test_readout_file: ok"
