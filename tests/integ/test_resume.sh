#!/usr/bin/env bash
# tests/integ/test_resume.sh: a run stopped by SIGINT writes a checkpoint,
# leaves no result file, and `snn run --resume` (with another thread count)
# finishes it with a result file identical, dataset by dataset, to an
# uninterrupted run's.  Periodic checkpoints do not change the results.
#
# Usage (from CTest): bash test_resume.sh <snn-binary> <source-dir>
set -u
snn=${1:?usage: test_resume.sh <snn-binary> <source-dir>}
src=${2:?usage: test_resume.sh <snn-binary> <source-dir>}
py=/usr/bin/python3
cfg=$src/tests/data/cli_small.cfg
die() { echo "test_resume: $*" >&2; exit 1; }
work=$(mktemp -d ./test_resume.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || die "no work directory"
long=(-s simulation.duration_ms=3000)

"$snn" run "$cfg" -q -t 1 -o ref.h5 "${long[@]}" || die "reference run failed"

# Interrupt: wait for the first periodic checkpoint, then send SIGINT.
"$snn" run "$cfg" -q -t 1 -o out.h5 "${long[@]}" -s output.checkpoint_every_ms=300 \
    2>err.txt &
pid=$!
for _ in $(seq 1 3000); do
    [ -f out.h5.ckpt ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 130 ] || die "interrupted run exited $rc, expected 130: $(cat err.txt)"
grep -q "checkpoint written to out.h5.ckpt" err.txt || die "no checkpoint message: $(cat err.txt)"
[ -f out.h5.ckpt ] || die "no checkpoint file"
[ ! -e out.h5 ] && [ ! -e out.h5.tmp ] || die "an interrupted run left a result file"

# Bad resumes: exit 2 with a message, nothing written.
"$snn" run --resume out.h5.ckpt "$cfg" 2>bad.txt && die "--resume with a file accepted"
grep -q "takes no parameter file" bad.txt || die "unclear message: $(cat bad.txt)"
"$snn" run --resume "$cfg" 2>bad.txt && die "--resume of a parameter file accepted"
grep -q "not an snn checkpoint\|cannot open" bad.txt || die "unclear message: $(cat bad.txt)"

"$snn" run --resume out.h5.ckpt -q -t 2 || die "resume failed"
[ -f out.h5 ] || die "resume wrote no result file"
[ ! -e out.h5.ckpt ] || die "the checkpoint was not removed after the run finished"
"$py" "$src/tests/integ/h5_same.py" ref.h5 out.h5 --skip config || die "resumed run differs"

# Periodic checkpoints alone change nothing.
"$snn" run "$cfg" -q -t 2 -o per.h5 "${long[@]}" -s output.checkpoint_every_ms=700 ||
    die "run with checkpoints failed"
"$py" "$src/tests/integ/h5_same.py" ref.h5 per.h5 --skip config || die "checkpoints changed the run"
# The readout stage (pure backprop on Fashion-MNIST pixels): interrupted
# between epochs, resumed, identical but for the measured epoch times.
rcfg=$src/tests/data/good_readout_pixels.cfg
rset=(-s readout.epochs=6 -s readout.train_samples=1000)
"$snn" run "$rcfg" -q -o rref.h5 "${rset[@]}" || die "readout reference run failed"
"$snn" run "$rcfg" -q -o rout.h5 "${rset[@]}" -s output.checkpoint_every_epochs=2 2>err.txt &
pid=$!
for _ in $(seq 1 3000); do
    [ -f rout.h5.ckpt ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 130 ] || die "interrupted readout exited $rc, expected 130: $(cat err.txt)"
[ ! -e rout.h5 ] || die "an interrupted readout left a result file"
"$snn" run --resume rout.h5.ckpt -q -t 2 || die "readout resume failed"
"$py" "$src/tests/integ/h5_same.py" rref.h5 rout.h5 --skip config readout/curves/epoch_time_s ||
    die "resumed readout differs"
echo "test_resume: ok"
