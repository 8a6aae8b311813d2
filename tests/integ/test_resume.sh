#!/usr/bin/env bash
# tests/integ/test_resume.sh: a run stopped by SIGINT writes a checkpoint,
# leaves no result file, and `snn run --resume` (with another thread count)
# finishes it with a result file identical, dataset by dataset and attribute
# by attribute (wall-clock values aside, listed below), to an
# uninterrupted run's.  Periodic checkpoints do not change the results.
# Stages: a plain simulation, the readout on pixels, and the phases and the
# readout of the hybrid pipeline (with and without emergence snapshots);
# rules with state of their own and guided (GHL, three-factor) learning.
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
# Results are compared dataset by dataset and attribute by attribute, bit
# for bit (tests/integ/h5_same.py), except:
#   config                        (dataset) the output path in it differs
#   readout/curves/epoch_time_s   (dataset) wall-clock time per epoch
#   build_s, wall_s, start_time, end_time, samples_per_s, train_s
#                                 (attributes) wall-clock times and rates
#   command_line, threads         (attributes) how the run was started: the
#                                 thread counts differ on purpose
same() {
    "$py" "$src/tests/integ/h5_same.py" "$1" "$2" --skip config readout/curves/epoch_time_s \
        --skip-attr build_s wall_s start_time end_time samples_per_s train_s command_line \
        threads || die "$3"
}
# Run "$@" in the background, wait for the checkpoint $ck, send SIGINT:
# the run must exit 130, say where the checkpoint is, and leave no result.
interrupt() {
    local ck=$1 out=${1%.ckpt}
    shift
    "$@" 2>err.txt &
    local pid=$! rc
    for _ in $(seq 1 3000); do
        [ -f "$ck" ] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    kill -INT $pid 2>/dev/null
    wait $pid
    rc=$?
    [ $rc -eq 130 ] || die "interrupted run exited $rc, expected 130: $(cat err.txt)"
    grep -q "checkpoint written to $ck" err.txt || die "no checkpoint message: $(cat err.txt)"
    [ ! -e "$out" ] && [ ! -e "$out.tmp" ] || die "an interrupted run left a result file"
}

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
"$snn" run --resume out.h5.ckpt -s simulation.seed=3 2>bad.txt && die "--resume -s seed accepted"
grep -q "'simulation.seed=3' cannot change a run being resumed" bad.txt ||
    die "unclear message: $(cat bad.txt)"

"$snn" run --resume out.h5.ckpt -q -t 2 || die "resume failed"
[ -f out.h5 ] || die "resume wrote no result file"
[ ! -e out.h5.ckpt ] || die "the checkpoint was not removed after the run finished"
same ref.h5 out.h5 "resumed run differs"

# Periodic checkpoints alone change nothing.
"$snn" run "$cfg" -q -t 2 -o per.h5 "${long[@]}" -s output.checkpoint_every_ms=700 ||
    die "run with checkpoints failed"
same ref.h5 per.h5 "checkpoints changed the run"
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
same rref.h5 rout.h5 "resumed readout differs"

# The phases and the readout of the hybrid pipeline (tests/data/dc_hybrid.cfg:
# a small Diehl & Cook network on MNIST, vote, readout, robustness copies of
# the test phase).
mnist=$src/../shared/data/mnist
[ -d "$mnist" ] || die "MNIST not found at $mnist"
hcfg=$src/tests/data/dc_hybrid.cfg
hset=(-s readout.epochs=600)
"$snn" run "$hcfg" -q -t 1 -o href.h5 "${hset[@]}" || die "hybrid reference run failed"

# SIGINT while learning (after the first checkpoint, at sample 10 of 40).
interrupt hl.h5.ckpt "$snn" run "$hcfg" -q -t 2 -o hl.h5 "${hset[@]}" \
    -s output.checkpoint_every_samples=10
grep -q "interrupted in phase 'learn'" err.txt || die "not stopped while learning: $(cat err.txt)"
"$py" - hl.h5.ckpt <<'PY' || die "the learning checkpoint is not of stage phases"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
pos = f["protocol/pos"][()]
assert f["stage"][()] == b"phases" and pos[0] == 5 and pos[1] == 0 and 10 <= pos[2] < 40, pos
PY
done0=$("$py" -c 'import sys, h5py; print(int(h5py.File(sys.argv[1], "r")["protocol/pos"][2]))' hl.h5.ckpt)
"$snn" run --resume hl.h5.ckpt -t 1 >hl_resume.txt 2>&1 || die "hybrid resume (learning) failed"
# The phase summary counts what this run did, not the samples before it.
grep -q "phase learn: $((40 - done0)) samples in .*, resumed after $done0 of 40" hl_resume.txt ||
    die "resumed learning phase summary: $(cat hl_resume.txt)"
[ ! -e hl.h5.ckpt ] || die "the checkpoint was not removed after the run finished"
same href.h5 hl.h5 "resumed hybrid run (learning) differs"

# SIGINT during the readout stage: its checkpoint holds the features, the
# resumed run does not redo the phases.
interrupt hr.h5.ckpt "$snn" run "$hcfg" -q -t 1 -o hr.h5 "${hset[@]}" \
    -s output.checkpoint_every_epochs=100
"$py" - hr.h5.ckpt <<'PY' || die "the readout checkpoint is not of stage readout"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f["stage"][()] == b"readout" and "readout/phases/1/counts" in f, list(f)
PY
"$snn" run --resume hr.h5.ckpt -t 2 >resume.txt 2>&1 || die "hybrid resume (readout) failed"
grep -q "phase learn" resume.txt && die "the resumed readout redid the phases: $(cat resume.txt)"
grep -q "vote accuracy on 'test'" resume.txt || die "no vote summary: $(cat resume.txt)"
same href.h5 hr.h5 "resumed hybrid run (readout) differs"

# Periodic checkpoints of both stages change nothing.
"$snn" run "$hcfg" -q -t 2 -o hp.h5 "${hset[@]}" -s output.checkpoint_every_samples=7 \
    -s output.checkpoint_every_epochs=150 || die "hybrid run with checkpoints failed"
same href.h5 hp.h5 "checkpoints changed the hybrid run"

# Emergence snapshots and a probe (kept in memory until the end) across an
# interruption; the readout short.
sset=(-s readout.epochs=20 -s 'record.weights=()' -s 'phases[0].snapshot_every=10'
      -s 'phases[0].probe=8' -s 'phases[0].probe_split="test"')
"$snn" run "$hcfg" -q -t 2 -o sref.h5 "${sset[@]}" || die "snapshot reference run failed"
interrupt hs.h5.ckpt "$snn" run "$hcfg" -q -t 1 -o hs.h5 "${sset[@]}" \
    -s output.checkpoint_every_samples=15
# Resumed with the learning phase stepped on both threads (parallel_learning:
# the same bits as one thread).
"$snn" run --resume hs.h5.ckpt -q -t 2 -s simulation.parallel_learning=true ||
    die "snapshot resume failed"
same sref.h5 hs.h5 "resumed run with snapshots (parallel learning) differs"
# Rules with state of their own, in a plain simulation: three_factor's
# eligibility traces travel with the network's state (tests/unit/test_state.c
# checks them value by value).
tfset=(-s 'projections.de.plasticity={ rule = "three_factor"; w_max = 60.0; }')
"$snn" run "$cfg" -q -t 1 -o tfref.h5 "${long[@]}" "${tfset[@]}" || die "three_factor run failed"
interrupt tf.h5.ckpt "$snn" run "$cfg" -q -t 2 -o tf.h5 "${long[@]}" "${tfset[@]}" \
    -s output.checkpoint_every_ms=300
"$snn" run --resume tf.h5.ckpt -q -t 1 || die "three_factor resume failed"
same tfref.h5 tf.h5 "resumed three_factor run differs"

# Guided learning (tests/data/ghl_small.cfg: the `guided` loop, its readout
# and the mini-batch being collected are saved with the phases): interrupted
# while learning, at a sample inside a mini-batch of 16, resumed with another
# thread count.  Modes: GHL alternating, with pruning; GHL interleaved;
# three_factor with the sign and the reward modulator.
gcfg=$src/tests/data/ghl_small.cfg
gset=(-s 'phases[0].samples=300')
guided_case() {
    local name=$1
    shift
    "$snn" run "$gcfg" -q -t 1 -o "${name}_ref.h5" "${gset[@]}" "$@" ||
        die "guided reference run ($name) failed"
    interrupt "$name.h5.ckpt" "$snn" run "$gcfg" -q -t 2 -o "$name.h5" "${gset[@]}" "$@" \
        -s output.checkpoint_every_samples=5
    grep -q "interrupted in phase 'learn'" err.txt ||
        die "guided run ($name) not stopped while learning: $(cat err.txt)"
    "$py" - "$name.h5.ckpt" <<'PY' || die "guided checkpoint ($name) not inside a mini-batch"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
head = f["ghl/head"][()]
assert f["stage"][()] == b"phases" and 5 <= f["protocol/pos"][2] < 300, f["protocol/pos"][()]
assert head[2] == f["protocol/pos"][2] % 16, (head, f["protocol/pos"][()])
PY
    "$snn" run --resume "$name.h5.ckpt" -q -t 1 || die "guided resume ($name) failed"
    same "${name}_ref.h5" "$name.h5" "resumed guided run ($name) differs"
}
guided_case ghl -s projections.xe.plasticity.prune_fraction=0.05 \
    -s projections.xe.plasticity.prune_every=40
guided_case ghli -s 'guided.schedule="interleave"'
tf3='{ rule = "three_factor"; tau_e = 100.0; eta = 0.5; w_max = 1.0; }'
guided_case tfs -s "projections.xe.plasticity=$tf3" -s 'guided.modulator="sign"'
guided_case tfr -s "projections.xe.plasticity=$tf3" -s 'guided.modulator="reward"'
# The references learnt something in every mode (the comparisons are not of
# untouched networks): the guided records moved.
for name in ghl ghli tfs tfr; do
    "$py" - "${name}_ref.h5" <<'PY' || die "guided reference ($name) recorded no learning"
import sys, h5py
g = h5py.File(sys.argv[1], "r")["ghl/xe"]
assert len(g["samples"]) == 19 and g["local"][-1] > 0, (len(g["samples"]), g["local"][()])
PY
done
echo "test_resume: ok"
