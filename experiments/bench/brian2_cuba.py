#!/usr/bin/python3
"""
Brian2 reference run of the Vogels & Abbott (2005) CUBA benchmark
(Brette et al. 2007, benchmark 2), set up exactly as Brian2's documented
example examples/CUBA.py:

  4000 LIF neurons (3200 exc, 800 inh), current-based exponential synapses
  dv/dt  = (ge+gi-(v-El))/taum  (unless refractory)
  dge/dt = -ge/taue,  dgi/dt = -gi/taui
  taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
  refractory 5 ms, p = 0.02 (Bernoulli, autapses possible, no delay),
  we = 1.62 mV, wi = -9 mV, v0 ~ U[Vr, Vt], ge = gi = 0, dt 0.1 ms,
  exact ('linear') integration.

Prints one `key: value` line per quantity (see README.md in this folder).
Run with the Debian interpreter: /usr/bin/python3 brian2_cuba.py --help
"""
import argparse
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)  # pythran vs numpy noise

T_WALL0 = time.time()

import numpy as np
import brian2
from brian2 import (ms, mV, second, Hz, NeuronGroup, Synapses, SpikeMonitor,
                    defaultclock, prefs, set_device, device, run, seed)

N_E, N_I = 3200, 800


def parse():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', choices=['runtime', 'cpp_standalone'],
                    default='cpp_standalone')
    ap.add_argument('--threads', type=int, default=1,
                    help='cpp_standalone: prefs.devices.cpp_standalone.openmp_threads '
                         '(0 = build without OpenMP; the loop time is then '
                         'std::clock() CPU time). runtime: must be 1.')
    ap.add_argument('--duration-ms', type=float, default=1000.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--skip-ms', type=float, default=200.0,
                    help='also print steady_* statistics over [skip, T) '
                         '(0 disables them)')
    ap.add_argument('--build-dir', default=None,
                    help='cpp_standalone project directory (default '
                         '/tmp/brian2_bench/cuba_t<threads>)')
    ap.add_argument('--no-clean', action='store_true',
                    help='cpp_standalone: do not "make clean" first '
                         '(incremental compile, smaller build time)')
    return ap.parse_args()


def spike_stats(i, t, n0, n1, t0, t1):
    """Spike count, mean rate (Hz), mean CV of ISIs and #neurons in the CV
    for neurons [n0, n1) and spikes with t0 <= t < t1 (seconds).
    The CV is averaged over neurons with >= 3 spikes (>= 2 ISIs)."""
    sel = (i >= n0) & (i < n1) & (t >= t0) & (t < t1)
    ii, tt = i[sel], t[sel]
    n = n1 - n0
    count = int(ii.size)
    rate = count / (n * (t1 - t0))
    order = np.lexsort((tt, ii))          # by neuron, then by time
    ii, tt = ii[order], tt[order]
    isi = np.diff(tt)
    same = ii[1:] == ii[:-1]
    isi, owner = isi[same], ii[1:][same]
    cnt = np.bincount(owner - n0, minlength=n).astype(float)
    s1 = np.bincount(owner - n0, weights=isi, minlength=n)
    s2 = np.bincount(owner - n0, weights=isi * isi, minlength=n)
    ok = cnt >= 2
    if not ok.any():
        return count, rate, float('nan'), 0
    m = s1[ok] / cnt[ok]
    var = np.maximum(s2[ok] / cnt[ok] - m * m, 0.0)   # population variance
    cv = np.sqrt(var) / m
    return count, rate, float(cv.mean()), int(ok.sum())


def main():
    a = parse()
    def emit(k, v):
        if isinstance(v, float):
            v = f'{v:.6g}'
        print(f'{k}: {v}', flush=True)

    if a.device == 'cpp_standalone':
        bdir = a.build_dir or f'/tmp/brian2_bench/cuba_t{a.threads}'
        set_device('cpp_standalone', build_on_run=False, directory=bdir)
        prefs.devices.cpp_standalone.openmp_threads = a.threads
    else:
        if a.threads != 1:
            sys.exit('runtime device is single-threaded: use --threads 1')
        prefs.codegen.target = 'cython'
        bdir = None

    np.random.seed(a.seed)
    seed(a.seed)
    defaultclock.dt = 0.1 * ms
    T = a.duration_ms * ms

    taum = 20 * ms
    taue = 5 * ms
    taui = 10 * ms
    Vt = -50 * mV
    Vr = -60 * mV
    El = -49 * mV
    eqs = '''
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    '''
    t_setup0 = time.time()
    P = NeuronGroup(N_E + N_I, eqs, threshold='v>Vt', reset='v = Vr',
                    refractory=5 * ms, method='linear')
    P.v = 'Vr + rand() * (Vt - Vr)'
    P.ge = 0 * mV
    P.gi = 0 * mV
    we = (60 * 0.27 / 10) * mV   # excitatory synaptic weight (voltage)
    wi = (-20 * 4.5 / 10) * mV   # inhibitory synaptic weight
    Ce = Synapses(P, P, on_pre='ge += we')
    Ci = Synapses(P, P, on_pre='gi += wi')
    Ce.connect('i<3200', p=0.02)
    Ci.connect('i>=3200', p=0.02)
    s_mon = SpikeMonitor(P)
    setup_s = time.time() - t_setup0

    emit('model', 'CUBA (Vogels & Abbott 2005; Brian2 examples/CUBA.py)')
    emit('brian2_version', brian2.__version__)
    emit('device', a.device if a.device == 'cpp_standalone' else 'runtime (cython)')
    emit('threads', a.threads)
    emit('seed', a.seed)
    emit('dt_ms', 0.1)
    emit('duration_ms', a.duration_ms)
    emit('n_exc', N_E)
    emit('n_inh', N_I)

    if a.device == 'cpp_standalone':
        t0 = time.time()
        run(T)
        t1 = time.time()
        device.build(directory=bdir, compile=True, run=True, debug=False,
                     clean=not a.no_clean)
        t2 = time.time()
        make_s = device.timers['compile']['make'] or 0.0
        clean_s = device.timers['compile']['clean'] or 0.0
        bin_s = device.timers['run_binary']
        loop_s = float(device._last_run_time)
        emit('build_dir', bdir)
        emit('codegen_s', (t2 - t0) - bin_s - make_s - clean_s)
        emit('compile_s', make_s + clean_s)
        emit('build_time_s', (t2 - t0) - bin_s)
        emit('run_binary_s', bin_s)
        emit('loop_wall_s', loop_s)
        emit('loop_time_source',
             'device._last_run_time = Network::run loop, omp_get_wtime() wall'
             if a.threads > 0 else
             'device._last_run_time = Network::run loop, std::clock() CPU time '
             '(no OpenMP)')
    else:
        t0 = time.time()
        run(T)
        t1 = time.time()
        loop_s = float(device._last_run_time)
        emit('setup_s', setup_s)
        emit('build_time_s', (t1 - t0) - loop_s)
        emit('loop_wall_s', loop_s)
        emit('loop_time_source',
             'device._last_run_time = Network.run main loop, time.time() wall '
             '(excludes code generation/compilation in before_run)')

    # ---- analysis (outside all timings) ----
    i = np.asarray(s_mon.i[:], dtype=np.int64)
    t = np.asarray(s_mon.t[:] / second, dtype=float)
    ce_i = np.asarray(Ce.i[:], dtype=np.int64)
    ci_i = np.asarray(Ci.i[:], dtype=np.int64)
    n_syn_e, n_syn_i = int(ce_i.size), int(ci_i.size)
    outdeg = (np.bincount(ce_i, minlength=N_E + N_I)
              + np.bincount(ci_i, minlength=N_E + N_I))
    Ts = a.duration_ms / 1000.0
    se, re, cve, nce = spike_stats(i, t, 0, N_E, 0.0, Ts)
    si, ri, cvi, nci = spike_stats(i, t, N_E, N_E + N_I, 0.0, Ts)
    _, _, cva, nca = spike_stats(i, t, 0, N_E + N_I, 0.0, Ts)
    events = int(outdeg[i].sum())

    emit('spikes_exc', se)
    emit('spikes_inh', si)
    emit('spikes_total', se + si)
    emit('rate_exc_hz', re)
    emit('rate_inh_hz', ri)
    emit('rate_all_hz', (se + si) / ((N_E + N_I) * Ts))
    emit('cv_isi_mean', cva)
    emit('cv_isi_exc', cve)
    emit('cv_isi_inh', cvi)
    emit('cv_isi_neurons', nca)
    emit('synapses_exc', n_syn_e)
    emit('synapses_inh', n_syn_i)
    emit('synapses', n_syn_e + n_syn_i)
    emit('syn_events', events)
    emit('events_per_s', events / loop_s)
    emit('realtime_factor', Ts / loop_s)
    if 0 < a.skip_ms < a.duration_ms:
        t0s = a.skip_ms / 1000.0
        emit('steady_window_ms', f'{a.skip_ms:g}-{a.duration_ms:g}')
        _, re2, cve2, _ = spike_stats(i, t, 0, N_E, t0s, Ts)
        _, ri2, cvi2, _ = spike_stats(i, t, N_E, N_E + N_I, t0s, Ts)
        _, _, cva2, _ = spike_stats(i, t, 0, N_E + N_I, t0s, Ts)
        emit('steady_rate_exc_hz', re2)
        emit('steady_rate_inh_hz', ri2)
        emit('steady_cv_isi_mean', cva2)
    emit('total_script_s', time.time() - T_WALL0)


if __name__ == '__main__':
    main()
