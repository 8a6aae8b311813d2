#!/usr/bin/env bash
# tests/integ/test_cli.sh SNN SOURCE_DIR: the command line as a user meets it:
# help and version, exit statuses, a parameter-file error leaves no output,
# overrides, thread-count independence of the written spikes (read back with
# h5py), snn info, an unwritable output path, and SIGINT leaving no file.
set -u
snn=$(realpath "$1") src=$(realpath "$2")
data=$src/tests/data
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0 failed=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { failed=$((failed + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# help and version
out=$("$snn" --help); check "--help exits 0 and lists commands" grep -q "run FILE.cfg" <<<"$out"
out=$("$snn" help run); check "help run documents -s" grep -q -- "--set KEY=VALUE" <<<"$out"
out=$("$snn" run --help); check "run --help" grep -q "usage: snn run" <<<"$out"
out=$("$snn" help model lif); check "help model lif shows units" grep -q "tau_m .*ms" <<<"$out"
out=$("$snn" help config); check "help config" test -n "$out"
out=$("$snn" help rule stdp_pair); check "help rule stdp_pair shows tau_plus in ms" grep -q "tau_plus .*ms" <<<"$out"
"$snn" help rule nosuch >/dev/null 2>&1; check "help rule with an unknown name exits 2" test $? -eq 2
out=$("$snn" --version); check "--version" grep -Eq "^snn [0-9]+\.[0-9]+" <<<"$out"
# The version is taken at build time: it names the commit the binary was
# built from (not the one cmake was configured at).
if desc=$(git -C "$src" describe --always --tags 2>/dev/null); then
  check "--version names the current commit ($desc)" grep -Eq "^snn [0-9.]+-$desc(-dirty)?$" <<<"$out"
fi
"$snn" frobnicate >/dev/null 2>&1; check "unknown command exits 2" test $? -eq 2
"$snn" run >/dev/null 2>&1; check "run without a file exits 2" test $? -eq 2
"$snn" run "$data/cli_small.cfg" --threads zero >/dev/null 2>&1; check "bad --threads exits 2" test $? -eq 2

# a typo: file:line, key, suggestion, exit 2, no output at all
err=$("$snn" run "$data/cli_typo.cfg" 2>&1 >/dev/null); rc=$?
check "typo exits 2" test $rc -eq 2
check "typo names file:line" grep -q "cli_typo.cfg:5" <<<"$err"
check "typo suggests tau_m" grep -q "did you mean 'tau_m'" <<<"$err"
check "typo leaves no output" test -z "$(ls)"

# every bad fixture of the parameter-file tests: exit 2, an error that names
# the file and line, and no output file of any kind
for f in "$data"/bad_*.cfg; do
  n=$(basename "$f")
  err=$("$snn" run "$f" -q 2>&1 >/dev/null); rc=$?
  check "$n exits 2" test $rc -eq 2
  check "$n names file:line" grep -Eq "[a-z_]+\.cfg:[0-9]+" <<<"$err"
done
check "bad files leave no output" test -z "$(ls)"

# an override with an error names the override
err=$("$snn" run "$data/cli_small.cfg" -s simulation.dt_ms=-1 2>&1 >/dev/null); rc=$?
check "bad override exits 2" test $rc -eq 2
check "bad override is named" grep -q "simulation.dt_ms" <<<"$err"
check "bad override leaves no output" test -z "$(ls)"

# a good run, 1 and 2 threads, an override, and info
"$snn" run "$data/cli_small.cfg" -o t1.h5 --threads 1 -q; rc1=$?
"$snn" run "$data/cli_small.cfg" -o t2.h5 --threads 2 -q; rc2=$?
check "run exits 0" test $rc1 -eq 0 -a $rc2 -eq 0
check "no temporary file left" test ! -e t1.h5.tmp -a ! -e t2.h5.tmp
"$snn" run "$data/cli_small.cfg" -o t3.h5 -q -s simulation.duration_ms=100 -s populations.exc.I_e=350.0
check "run with overrides exits 0" test $? -eq 0
"$py" - t1.h5 t2.h5 t3.h5 <<'PY'
import sys, h5py, numpy as np
a, b, c = (h5py.File(f, "r") for f in sys.argv[1:])
fails = []
for pop in ("exc", "inh", "drive"):
    for d in ("timestamps", "node_ids"):
        x, y = a[f"spikes/{pop}/{d}"][()], b[f"spikes/{pop}/{d}"][()]
        if x.shape != y.shape or not np.array_equal(x, y):
            fails.append(f"{pop}/{d} differs between 1 and 2 threads")
    if a[f"spikes/{pop}/timestamps"].size == 0:
        fails.append(f"{pop} has no spikes")
for d in ("V_m", "I_syn_ex"):
    if not np.array_equal(a[f"state/exc/{d}"][()], b[f"state/exc/{d}"][()]):
        fails.append(f"state {d} differs between 1 and 2 threads")
for pj in ("ee", "ie"):
    if not np.array_equal(a[f"weights/{pj}/values"][()], b[f"weights/{pj}/values"][()]):
        fails.append(f"weights {pj} differ")
if a.attrs["threads"] != 1 or b.attrs["threads"] != 2:
    fails.append("thread counts not stored")
if "duration_ms = 100.0" not in c["config"][()].decode() or c.attrs["duration_ms"] != 100.0:
    fails.append("override not in the stored parameters")
if c["spikes/exc/timestamps"][()].max() > 100.0:
    fails.append("spikes after the overridden duration")
if "I_e = 350.0" not in c["config"][()].decode():
    fails.append("population override not stored")
print("\n".join(fails) if fails else "identical")
sys.exit(1 if fails else 0)
PY
check "1 and 2 threads write identical spikes, state and weights" test $? -eq 0
out=$("$snn" info t1.h5); rc=$?
check "info exits 0" test $rc -eq 0
check "info lists populations" grep -q "exc" <<<"$out"
"$snn" info nonexistent.h5 >/dev/null 2>&1; check "info on a missing file exits 1" test $? -eq 1

# an unwritable output path fails cleanly
err=$("$snn" run "$data/cli_small.cfg" -o "$work/no/such/dir/x.h5" -q 2>&1); rc=$?
check "unwritable output exits 1" test $rc -eq 1
check "unwritable output is explained" grep -q "x.h5" <<<"$err"

# SIGINT: the run stops, exit 130, nothing left under the final name
"$snn" run "$data/cli_small.cfg" -o int.h5 -q -s simulation.duration_ms=1e7 &
pid=$!
sleep 1
kill -INT $pid
wait $pid; rc=$?
check "SIGINT exits 130" test $rc -eq 130
check "SIGINT leaves no file" test ! -e int.h5 -a ! -e int.h5.tmp

echo "cli: $pass passed, $failed failed"
[ $failed -eq 0 ]
