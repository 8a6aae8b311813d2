#!/usr/bin/env bash
# tests/integ/test_h5py.sh: the result file as h5py (Debian's python3-h5py)
# sees it: every dataset and attribute readable with the expected dtype,
# shape, units and values, strings decoded as str.
#
# Usage (from CTest, working directory <build>/tests):
#   bash test_h5py.sh <path-to-snn-binary> <source-dir>
# The file is written by `test_h5 --write` (tests/unit/test_h5.c), found
# next to this working directory's test programs; the checks are in
# tests/integ/h5_check.py.  Exits non-zero with a message on any failure.
set -u

snn_bin=${1:?usage: test_h5py.sh <snn-binary> <source-dir>}
src=${2:?usage: test_h5py.sh <snn-binary> <source-dir>}
py=/usr/bin/python3

die() {
    echo "test_h5py: $*" >&2
    exit 1
}

[ -x "$py" ] || die "$py not found: apt-get install python3 python3-h5py"
"$py" -c 'import h5py' 2>/dev/null ||
    die "$py cannot import h5py: apt-get install python3-h5py"

writer=./test_h5
if [ ! -x "$writer" ]; then
    # Fall back to the tests/ directory beside the snn binary's build tree.
    writer="$(dirname "$snn_bin")/tests/test_h5"
fi
[ -x "$writer" ] || die "test_h5 not found in $(pwd) or $(dirname "$snn_bin")/tests; build it first"
[ -f "$src/tests/integ/h5_check.py" ] || die "$src/tests/integ/h5_check.py not found"

work=$(mktemp -d ./test_h5py.XXXXXX) || die "cannot make a temporary directory in $(pwd)"
trap 'rm -rf "$work"' EXIT

out="$work/known.h5"
"$writer" --write "$out" || die "$writer --write $out failed"
[ -f "$out" ] || die "$writer --write did not create $out"
[ ! -e "$out.tmp" ] || die "$out.tmp left behind after a committed write"

"$py" "$src/tests/integ/h5_check.py" "$out"
status=$?
[ $status -eq 0 ] || die "h5py checks failed (status $status)"
