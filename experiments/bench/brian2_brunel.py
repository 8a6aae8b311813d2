#!/usr/bin/python3
"""
Brian2 reference run of the Brunel (2000) sparse E/I network, model A
(excitatory and inhibitory neurons identical), with g = 5 and
eta = nu_ext/nu_thr = 2 (the parameter set of Brunel 2000 Fig. 8C):

  NE 10000, NI 2500, fixed in-degree CE 1000 (from E), CI 250 (from I),
  multapses excluded, autapses allowed (NEST fixed_indegree defaults);
  delta synapses: v += J (exc), v += -g*J (inh), J 0.1 mV, g 5, delay 1.5 ms;
  LIF dv/dt = -v/tau_m (unless refractory), tau_m 20 ms, theta 20 mV,
  V_reset 10 mV, t_ref 2 ms, exact integration, dt 0.1 ms;
  external drive: each neuron gets CE independent Poisson inputs of weight J
  at nu_ext = eta*nu_thr, nu_thr = theta/(J*CE*tau_m) = 10 Hz, implemented
  with PoissonInput (one binomial draw per neuron and step).

Input arriving while a neuron is refractory is discarded, as in Brunel
(2000) and NEST's iaf_psc_delta. Brian2 does this by itself: a variable
whose equation has the "(unless refractory)" flag gets a conditional write
on not_refractory (NeuronGroup -> Variable.set_conditional_write), so the
generated on_pre and PoissonInput code reads "if(not_refractory) v += ...".
Brian2's own examples/frompapers/Brunel_2000.py behaves the same way.
Initial v ~ U[0, theta) by default (--v0 zero: all at 0 mV).

Prints one `key: value` line per quantity (see README.md in this folder).
Run with the Debian interpreter: /usr/bin/python3 brian2_brunel.py --help
"""
import argparse
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)  # pythran vs numpy noise

T_WALL0 = time.time()

import numpy as np
import brian2
from brian2 import (ms, mV, second, Hz, NeuronGroup, Synapses, SpikeMonitor,
                    PoissonInput, defaultclock, prefs, set_device, device,
                    run, seed)

NE, NI = 10000, 2500
CE, CI = 1000, 250


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
    ap.add_argument('--g', type=float, default=5.0)
    ap.add_argument('--eta', type=float, default=2.0)
    ap.add_argument('--v0', choices=['uniform', 'zero'], default='uniform')
    ap.add_argument('--skip-ms', type=float, default=200.0,
                    help='also print steady_* statistics over [skip, T) '
                         '(0 disables them)')
    ap.add_argument('--build-dir', default=None,
                    help='cpp_standalone project directory (default '
                         '/tmp/brian2_bench/brunel_t<threads>)')
    ap.add_argument('--no-clean', action='store_true',
                    help='cpp_standalone: do not "make clean" first')
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


def fixed_indegree(rng, n_pre, n_post, k):
    """Presynaptic indices (n_post*k,) and postsynaptic indices: every post
    neuron draws k distinct sources out of n_pre."""
    pre = np.empty((n_post, k), dtype=np.int32)
    for j in range(n_post):
        pre[j] = rng.choice(n_pre, size=k, replace=False)
    post = np.repeat(np.arange(n_post, dtype=np.int32), k)
    return pre.ravel(), post


def main():
    a = parse()

    def emit(k, v):
        if isinstance(v, float):
            v = f'{v:.6g}'
        print(f'{k}: {v}', flush=True)

    if a.device == 'cpp_standalone':
        bdir = a.build_dir or f'/tmp/brian2_bench/brunel_t{a.threads}'
        set_device('cpp_standalone', build_on_run=False, directory=bdir)
        prefs.devices.cpp_standalone.openmp_threads = a.threads
    else:
        if a.threads != 1:
            sys.exit('runtime device is single-threaded: use --threads 1')
        prefs.codegen.target = 'cython'
        bdir = None

    np.random.seed(a.seed)
    seed(a.seed)
    rng = np.random.default_rng(a.seed)
    defaultclock.dt = 0.1 * ms
    T = a.duration_ms * ms

    tau_m = 20 * ms
    theta = 20 * mV
    V_reset = 10 * mV
    t_ref = 2 * ms
    J = 0.1 * mV
    g = a.g
    D = 1.5 * ms
    nu_thr = theta / (J * CE * tau_m)
    nu_ext = a.eta * nu_thr

    t_setup0 = time.time()
    neurons = NeuronGroup(NE + NI, 'dv/dt = -v/tau_m : volt (unless refractory)',
                          threshold='v > theta', reset='v = V_reset',
                          refractory=t_ref, method='exact')
    if a.v0 == 'uniform':
        neurons.v = 'rand() * theta'
    else:
        neurons.v = 0 * mV
    exc = neurons[:NE]
    inh = neurons[NE:]
    Se = Synapses(exc, neurons, on_pre='v_post += J', delay=D)
    Si = Synapses(inh, neurons, on_pre='v_post += -g*J', delay=D)
    pre_e, post_e = fixed_indegree(rng, NE, NE + NI, CE)
    pre_i, post_i = fixed_indegree(rng, NI, NE + NI, CI)
    Se.connect(i=pre_e, j=post_e)
    Si.connect(i=pre_i, j=post_i)
    P_ext = PoissonInput(neurons, 'v', N=CE, rate=nu_ext, weight=J)
    s_mon = SpikeMonitor(neurons)
    setup_s = time.time() - t_setup0

    emit('model', f'Brunel 2000 model A (g={g:g}, eta={a.eta:g}), delta synapses, '
                  'fixed in-degree, PoissonInput drive')
    emit('brian2_version', brian2.__version__)
    emit('device', a.device if a.device == 'cpp_standalone' else 'runtime (cython)')
    emit('threads', a.threads)
    emit('seed', a.seed)
    emit('dt_ms', 0.1)
    emit('duration_ms', a.duration_ms)
    emit('n_exc', NE)
    emit('n_inh', NI)
    emit('nu_ext_hz', float(nu_ext / Hz))
    emit('v0', a.v0)
    emit('refractory_input', 'discarded (Brian2 conditional write on v)')

    if a.device == 'cpp_standalone':
        t0 = time.time()
        run(T)
        device.build(directory=bdir, compile=True, run=True, debug=False,
                     clean=not a.no_clean)
        t2 = time.time()
        make_s = device.timers['compile']['make'] or 0.0
        clean_s = device.timers['compile']['clean'] or 0.0
        bin_s = device.timers['run_binary']
        loop_s = float(device._last_run_time)
        emit('build_dir', bdir)
        emit('connect_numpy_s', setup_s)
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
    n_syn_e, n_syn_i = int(pre_e.size), int(pre_i.size)
    n_syn_check = len(Se) + len(Si)
    outdeg = np.concatenate([np.bincount(pre_e, minlength=NE),
                             np.bincount(pre_i, minlength=NI)]).astype(np.int64)
    Ts = a.duration_ms / 1000.0
    se, re, cve, nce = spike_stats(i, t, 0, NE, 0.0, Ts)
    si, ri, cvi, nci = spike_stats(i, t, NE, NE + NI, 0.0, Ts)
    _, _, cva, nca = spike_stats(i, t, 0, NE + NI, 0.0, Ts)
    events = int(outdeg[i].sum())
    in_run = t + float(D / second) < Ts - 1e-9
    events_in_run = int(outdeg[i[in_run]].sum())
    ext_expected = (NE + NI) * CE * float(nu_ext / Hz) * Ts

    emit('spikes_exc', se)
    emit('spikes_inh', si)
    emit('spikes_total', se + si)
    emit('rate_exc_hz', re)
    emit('rate_inh_hz', ri)
    emit('rate_all_hz', (se + si) / ((NE + NI) * Ts))
    emit('cv_isi_mean', cva)
    emit('cv_isi_exc', cve)
    emit('cv_isi_inh', cvi)
    emit('cv_isi_neurons', nca)
    emit('synapses_exc', n_syn_e)
    emit('synapses_inh', n_syn_i)
    emit('synapses', n_syn_e + n_syn_i)
    if n_syn_check != n_syn_e + n_syn_i:
        emit('WARNING_synapse_count_mismatch', n_syn_check)
    emit('syn_events', events)
    emit('syn_events_arrived_in_run', events_in_run)
    emit('events_per_s', events / loop_s)
    emit('ext_poisson_events_expected', f'{ext_expected:.4g}')
    emit('realtime_factor', Ts / loop_s)
    if 0 < a.skip_ms < a.duration_ms:
        t0s = a.skip_ms / 1000.0
        emit('steady_window_ms', f'{a.skip_ms:g}-{a.duration_ms:g}')
        _, re2, cve2, _ = spike_stats(i, t, 0, NE, t0s, Ts)
        _, ri2, cvi2, _ = spike_stats(i, t, NE, NE + NI, t0s, Ts)
        _, _, cva2, _ = spike_stats(i, t, 0, NE + NI, t0s, Ts)
        emit('steady_rate_exc_hz', re2)
        emit('steady_rate_inh_hz', ri2)
        emit('steady_cv_isi_mean', cva2)
    emit('total_script_s', time.time() - T_WALL0)


if __name__ == '__main__':
    main()
