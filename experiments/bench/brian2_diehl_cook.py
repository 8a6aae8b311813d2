#!/usr/bin/python3
"""
Brian2 reference run of snn's Diehl & Cook (2015) learning phase
(experiments/mnist_stdp.cfg with experiments/diehl_cook_400.inc), built to be
the same network as snn's, so that learning speed can be compared side by
side (experiments/bench/dc_compare):

  784 Poisson inputs, rate = pixel/255 * 31.875 Hz * intensity (intensity 2);
  400 excitatory conductance-based LIF neurons (models/lif_cond.c):
    C_m dv/dt = g_L (E_L - v) + ge (E_ex - v) + gi (E_in - v)  (unless refractory)
    dge/dt = -ge/tau_ex, dgi/dt = -gi/tau_in, dtheta/dt = -theta/tau_theta,
    spike when v >= V_th + theta, then v = V_reset, theta += theta_plus;
    C_m 100 pF, g_L 1 nS, E_L -65, V_reset -65, V_th -52, E_ex 0, E_in -100 mV,
    tau_ex 1 ms, tau_in 2 ms, t_ref 5 ms (v held for 10 steps after the spike
    step; Brian: refractory = t_ref + dt, see build_network), theta_plus 0.05 mV, tau_theta 1e7 ms,
    v(0) = -105 mV;
  400 inhibitory ones: C_m 10 pF, g_L 1 nS, E_L -60, V_reset -45, V_th -40,
    E_ex 0, E_in -85 mV, tau_ex 1, tau_in 2, t_ref 2 ms, no theta, v(0) = -100 mV;
  input -> exc all-to-all, w ~ U[0, 0.3] nS, plastic (rules/diehl_cook.c):
    pre spike:  w -= eta_pre  x_post w,            eta_pre 1e-4
    post spike: w += eta_post (x_pre - x_tar) (w_max - w), eta_post 1e-2,
    clipped to [0, w_max = 1], x_tar 0, mu 1; traces x_pre (tau 20 ms, per
    input neuron) and x_post (tau 20 ms, per exc neuron) are set to 1 at a
    spike; a rule update sees the traces *without* its own step's spikes
    (Brian2 runs synapses before resets, and the traces are reset in the
    reset code, as snn's engine does), at the emission time (the STDP pathway
    has no delay);
  exc -> inh one-to-one 10.4 nS, inh -> exc all but self 17 nS;
  every delay 0.5 ms (one step); dt 0.5 ms; v by exponential Euler with
  each conductance scaled by its exact mean over the step / its start value,
  (tau/h)(1 - exp(-h/tau)): the same update as snn's lif_cond (exact
  conductances, theta and traces on both sides; --plain-euler drops the
  factor).
  A sample: 350 ms with the image, 150 ms with all rates 0; if the exc layer
  fired fewer than 5 spikes during the 350 ms the sample is shown again
  (again followed by 150 ms rest) with intensity + 1, at most 10 times
  (boosts).  After every sample the input weights onto each exc neuron are
  scaled to sum to 78 (snn_net_normalize).  Images: the first N of the
  MNIST training set in file order (snn: shuffle_seed = 0).

Known differences from snn (all small): Brian's inputs spike at most once
per step (Bernoulli, p = rate dt; snn draws Poisson counts, which differ
only when rate dt is not small: 0.032 at intensity 2); transmission of a
pre spike uses the weight after the previous step's rule updates (snn: after
its own depression); the random numbers.

Devices:
  runtime        Cython; the sample loop is Python.  --loop run (default):
                 rates are set between run() calls, a boost is another pair
                 of run() calls, the normalisation is numpy between samples.
                 --loop netop: one run() whose network_operation (every
                 50 ms) does the same, without Brian's per-run() setup.
  cpp_standalone the whole schedule runs inside the generated main(): the
                 loop over samples and boosts, the rates and the
                 normalisation are C++ inserted with device.insert_code
                 around the two run() calls (350 ms, 150 ms) of one
                 presentation, so boosts are decided in the binary as in
                 snn.  The images are read from a file in the build
                 directory.

Prints one `key: value` line per quantity (see README.md in this folder).
loop_wall_s is the sample loop only (no code generation, compilation,
synapse creation or data loading).
Run with the Debian interpreter: /usr/bin/python3 brian2_diehl_cook.py --help
"""
import argparse
import gzip
import os
import struct
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)  # pythran vs numpy noise

T_WALL0 = time.time()

import numpy as np
import brian2
from brian2 import (ms, mV, nS, pF, Hz, NeuronGroup, Synapses, SpikeMonitor, Network,
                    defaultclock, prefs, set_device, device, run, seed)

HERE = os.path.dirname(os.path.abspath(__file__))
N_IN, N_E, N_I = 784, 400, 400

# experiments/mnist_stdp.cfg (stimulus, projections)
MAX_RATE_HZ = 31.875
INTENSITY = 2.0
PRESENT_MS, REST_MS = 350.0, 150.0
MIN_SPIKES, INTENSITY_STEP, MAX_BOOSTS = 5, 1.0, 10
NORMALIZE = 78.0
W_INIT_MAX = 0.3
ETA_PRE, ETA_POST, X_TAR, W_MAX = 1e-4, 1e-2, 0.0, 1.0
TAU_PRE, TAU_POST = 20.0, 20.0
W_EI, W_IE = 10.4, 17.0
DELAY_MS = 0.5
DT_MS = 0.5


def parse():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', choices=['runtime', 'cpp_standalone'],
                    default='cpp_standalone')
    ap.add_argument('--samples', type=int, default=100,
                    help='learning samples: the first N training images')
    ap.add_argument('--threads', type=int, default=1,
                    help='cpp_standalone: prefs.devices.cpp_standalone.openmp_threads '
                         '(0 = build without OpenMP). runtime: must be 1.')
    ap.add_argument('--data', default=os.path.normpath(
                        os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'mnist')),
                    help='directory with train-images-idx3-ubyte[.gz] '
                         '(default ../shared/data/mnist relative to the repository)')
    ap.add_argument('--loop', choices=['run', 'netop'], default='run',
                    help='runtime: "run" = one pair of run() calls per presentation '
                         '(default); "netop" = one run() whose network_operation '
                         'drives the schedule')
    ap.add_argument('--no-boost', action='store_true',
                    help='show every image once (no intensity boost)')
    ap.add_argument('--plain-euler', action='store_true',
                    help='integrate v with the conductances at the start of the step '
                         '(Brian\'s plain exponential Euler) instead of their step means')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--build-dir', default=None,
                    help='cpp_standalone project directory (default '
                         '/tmp/brian2_bench/diehl_cook_t<threads>)')
    ap.add_argument('--no-clean', action='store_true',
                    help='cpp_standalone: do not "make clean" first')
    a = ap.parse_args()
    if a.samples < 1:
        ap.error('--samples must be at least 1')
    if a.device == 'runtime' and a.threads != 1:
        ap.error('the runtime device is single-threaded: use --threads 1')
    if a.threads < 0:
        ap.error('--threads must be >= 0')
    return a


def load_images(d, n):
    """The first n images of the MNIST training set (IDX, optionally gzipped)
    in directory d, as an (n, 784) uint8 array."""
    for name in ('train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte',
                 'train-images.idx3-ubyte'):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            break
    else:
        sys.exit(f'{d}: no train-images-idx3-ubyte[.gz] (give the MNIST directory with --data)')
    op = gzip.open if p.endswith('.gz') else open
    with op(p, 'rb') as f:
        magic, count, rows, cols = struct.unpack('>IIII', f.read(16))
        if magic != 0x803 or rows * cols != N_IN:
            sys.exit(f'{p}: not an IDX file of 28x28 images (magic {magic:#x}, {rows}x{cols})')
        if n > count:
            sys.exit(f'{p}: --samples {n} but the file has {count} images')
        buf = f.read(n * N_IN)
    if len(buf) != n * N_IN:
        sys.exit(f'{p}: truncated ({len(buf)} of {n * N_IN} bytes)')
    return np.frombuffer(buf, dtype=np.uint8).reshape(n, N_IN)


def step_mean(tau_ms, plain):
    """(tau/h)(1 - exp(-h/tau)) for h = DT_MS; 1 with --plain-euler."""
    return 1.0 if plain else -np.expm1(-DT_MS / tau_ms) * tau_ms / DT_MS


def build_network(plain=False):
    """The groups and synapses (names fixed: the standalone C++ refers to
    their arrays)."""
    # k_ex, k_in: the mean of an exponential conductance over a step divided
    # by its value at the start, (tau/h)(1 - exp(-h/tau)), as in snn's
    # lif_cond.  Exponential Euler evaluates the conductances at the start
    # of the step; scaled by k it uses their exact step means, i.e. the same
    # update as snn's (V relaxes to V_inf with exp(-h G/C_m), G = g_L +
    # k_ex ge + k_in gi).  Without it (--plain-euler) a 1 ms conductance
    # delivers h/tau / (1 - exp(-h/tau)) = 1.27 times its exact charge at
    # dt 0.5 ms.
    lif = '''
    dv/dt = (g_L*(E_L - v) + k_ex*ge*(E_ex - v) + k_in*gi*(E_in - v))/C_m : volt (unless refractory)
    dge/dt = -ge/tau_ex : siemens
    dgi/dt = -gi/tau_in : siemens
    '''
    exc_ns = dict(C_m=100 * pF, g_L=1 * nS, E_L=-65 * mV, V_reset=-65 * mV, V_th=-52 * mV,
                  E_ex=0 * mV, E_in=-100 * mV, tau_ex=1 * ms, tau_in=2 * ms,
                  theta_plus=0.05 * mV, tau_theta=1e7 * ms, tau_post=TAU_POST * ms,
                  k_ex=step_mean(1.0, plain), k_in=step_mean(2.0, plain))
    inh_ns = dict(C_m=10 * pF, g_L=1 * nS, E_L=-60 * mV, V_reset=-45 * mV, V_th=-40 * mV,
                  E_ex=0 * mV, E_in=-85 * mV, tau_ex=1 * ms, tau_in=2 * ms,
                  k_ex=step_mean(1.0, plain), k_in=step_mean(2.0, plain))
    # Refractoriness: snn holds V for lround(t_ref/dt) steps after the step
    # in which the neuron fired (its spike time is the end of that step).
    # Brian dates the spike at the start of that step and integrates again
    # once t - lastspike >= refractory, so refractory = t_ref + dt gives the
    # same t_ref/dt held steps (with t_ref it would hold one step fewer).
    exc = NeuronGroup(N_E, lif + '''
    dtheta/dt = -theta/tau_theta : volt
    dxpost/dt = -xpost/tau_post : 1
    ''', threshold='v >= V_th + theta', reset='v = V_reset; theta += theta_plus; xpost = 1',
                      refractory=(5 + DT_MS) * ms, method='exponential_euler', namespace=exc_ns,
                      name='exc')
    inh = NeuronGroup(N_I, lif, threshold='v >= V_th', reset='v = V_reset',
                      refractory=(2 + DT_MS) * ms,
                      method='exponential_euler', namespace=inh_ns, name='inh')
    exc.v = -105 * mV
    inh.v = -100 * mV
    # Poisson inputs as a NeuronGroup (what PoissonGroup generates) with a
    # per-neuron pre trace, set to 1 in the reset (after the synapses ran).
    inp = NeuronGroup(N_IN, '''
    rates : Hz
    dxpre/dt = -xpre/tau_pre : 1
    ''', threshold='rand() < rates*dt', reset='xpre = 1', method='exact',
                      namespace=dict(tau_pre=TAU_PRE * ms), name='inp')
    syn_ns = dict(eta_pre=ETA_PRE, eta_post=ETA_POST, x_tar=X_TAR, w_max=W_MAX)
    s_in = Synapses(inp, exc, model='w : 1',
                    on_pre={'pre': 'ge_post += w*nS',
                            'stdp': 'w = clip(w - eta_pre*xpost_post*w, 0, w_max)'},
                    on_post='w = clip(w + eta_post*(xpre_pre - x_tar)*(w_max - w), 0, w_max)',
                    delay={'pre': DELAY_MS * ms}, namespace=syn_ns, name='s_in')
    s_in.connect()
    s_in.w = f'rand()*{W_INIT_MAX}'
    s_ei = Synapses(exc, inh, on_pre=f'ge_post += {W_EI}*nS', delay=DELAY_MS * ms, name='s_ei')
    s_ei.connect(j='i')
    s_ie = Synapses(inh, exc, on_pre=f'gi_post += {W_IE}*nS', delay=DELAY_MS * ms, name='s_ie')
    s_ie.connect(condition='i != j')
    mon = SpikeMonitor(exc, record=False, name='exc_mon')
    return exc, inh, inp, s_in, s_ei, s_ie, mon


def run_runtime(a, images, net):
    exc, inh, inp, s_in, s_ei, s_ie, mon = net
    bnet = Network(*net)
    # Compile/load every code object outside the timed loop: one step with
    # no input (the state it changes is negligible: 0.5 ms of decay).
    t0 = time.time()
    inp.rates = 0 * Hz
    bnet.run(DT_MS * ms, namespace={})
    warm_s = time.time() - t0
    post = np.asarray(s_in.j[:])
    scale = MAX_RATE_HZ / 255.0
    spikes, boosts = [], []
    t0 = time.time()
    for s in range(a.samples):
        px = images[s].astype(float)
        intensity, b = INTENSITY, 0
        while True:
            n0 = int(mon.num_spikes)
            inp.rates = px * (scale * intensity) * Hz
            bnet.run(PRESENT_MS * ms, namespace={})
            got = int(mon.num_spikes) - n0
            inp.rates = 0 * Hz
            bnet.run(REST_MS * ms, namespace={})
            if a.no_boost or got >= MIN_SPIKES or b >= MAX_BOOSTS:
                break
            intensity += INTENSITY_STEP
            b += 1
        w = np.asarray(s_in.w[:])
        tot = np.bincount(post, weights=w, minlength=N_E)
        f = np.where(tot != 0.0, NORMALIZE / np.where(tot != 0.0, tot, 1.0), 1.0)
        s_in.w[:] = w * f[post]
        spikes.append(got)
        boosts.append(b)
    loop_s = time.time() - t0
    return dict(loop_wall_s=loop_s, warmup_s=warm_s, spikes=np.array(spikes),
                boosts=np.array(boosts),
                loop_time_source='time.time() around the Python sample loop (rates, '
                                 'run() calls, boosts, numpy normalisation); one 0.5 ms '
                                 'warm-up run() before it compiles/loads the code')


def run_runtime_netop(a, images, net):
    """The same schedule in ONE run(): a network_operation every 50 ms (the
    common divisor of 350 and 150 ms; when='start', so it sees the spikes of
    all steps before t) switches the rates, counts the presentation's exc
    spikes, decides the boost, normalises and stops the network after the
    last sample.  Saves Brian's per-run() preparation (code objects, spike
    queues), which dominates the run() loop."""
    exc, inh, inp, s_in, s_ei, s_ie, mon = net
    tick_ms = 50.0
    n_present, n_rest = round(PRESENT_MS / tick_ms), round(REST_MS / tick_ms)
    post = np.asarray(s_in.j[:])
    scale = MAX_RATE_HZ / 255.0
    spikes, boosts = [], []
    st = dict(s=0, tick=0, intensity=INTENSITY, b=0, n0=0, got=0, started=False)

    def show():
        st['n0'] = int(mon.num_spikes)
        inp.rates = images[st['s']].astype(float) * (scale * st['intensity']) * Hz

    @brian2.network_operation(dt=tick_ms * ms, when='start')
    def schedule():
        if not st['started']:          # t = 0: first image
            st['started'] = True
            show()
            return
        st['tick'] += 1
        if st['tick'] == n_present:     # end of the presentation: rest
            st['got'] = int(mon.num_spikes) - st['n0']
            inp.rates = 0 * Hz
            return
        if st['tick'] < n_present + n_rest:
            return
        st['tick'] = 0                  # end of the rest
        if not (a.no_boost or st['got'] >= MIN_SPIKES or st['b'] >= MAX_BOOSTS):
            st['intensity'] += INTENSITY_STEP
            st['b'] += 1
            show()
            return
        w = np.asarray(s_in.w[:])
        tot = np.bincount(post, weights=w, minlength=N_E)
        f = np.where(tot != 0.0, NORMALIZE / np.where(tot != 0.0, tot, 1.0), 1.0)
        s_in.w[:] = w * f[post]
        spikes.append(st['got'])
        boosts.append(st['b'])
        st['s'] += 1
        if st['s'] == a.samples:
            bnet.stop()
            return
        st['intensity'], st['b'] = INTENSITY, 0
        show()

    bnet = Network(*net, schedule)
    inp.rates = 0 * Hz
    # Longest possible schedule (every sample boosted MAX_BOOSTS times) plus
    # one tick for the final stop.
    longest = a.samples * (MAX_BOOSTS + 1) * (PRESENT_MS + REST_MS) + tick_ms
    t0 = time.time()
    bnet.run(longest * ms, namespace={})
    total = time.time() - t0
    loop_s = float(device._last_run_time)
    if len(spikes) != a.samples:
        sys.exit(f'network_operation schedule ended after {len(spikes)} samples')
    return dict(loop_wall_s=loop_s, warmup_s=total - loop_s, spikes=np.array(spikes),
                boosts=np.array(boosts),
                loop_time_source='device._last_run_time: the main loop of the one run() '
                                 '(Python network_operation included; code generation and '
                                 'Cython compilation/loading in before_run excluded)')


# C++ pieces of the standalone sample loop.  They are pasted into main()
# (inside `using namespace brian`) around the two run() calls of one
# presentation; the arrays are those of the groups named in build_network.
CPP_OPEN = r'''
{ // ---- Diehl & Cook sample loop (brian2_diehl_cook.py) ----
const int dc_n = %(n)d, dc_npix = %(npix)d;
std::vector<unsigned char> dc_img((size_t)dc_n * dc_npix);
{
    FILE *dc_f = fopen("%(images)s", "rb");
    if (!dc_f || fread(dc_img.data(), 1, dc_img.size(), dc_f) != dc_img.size()) {
        fprintf(stderr, "%(images)s: cannot read %%d images\n", dc_n);
        exit(1);
    }
    fclose(dc_f);
}
std::vector<int> dc_spikes(dc_n), dc_boosts(dc_n);
std::vector<double> dc_sum(%(npost)d);
double dc_netrun = 0.0;  // sum of Network::run times (Brian's own loop timer)
auto dc_now = []() {
    return std::chrono::duration<double>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
};
const double dc_t0 = dc_now();
for (int dc_s = 0; dc_s < dc_n; dc_s++) {
    double dc_int = %(intensity)r;
    int dc_b = 0, dc_got = 0;
    for (;;) {
        const unsigned char *dc_px = &dc_img[(size_t)dc_s * dc_npix];
        const double dc_scale = %(scale)r * dc_int;
        for (int dc_i = 0; dc_i < dc_npix; dc_i++)
            _array_inp_rates[dc_i] = dc_px[dc_i] * dc_scale;
        const int32_t dc_n0 = _array_exc_mon_N[0];
'''
CPP_MID = r'''
        dc_netrun += Network::_last_run_time;
        dc_got = _array_exc_mon_N[0] - dc_n0;
        for (int dc_i = 0; dc_i < dc_npix; dc_i++)
            _array_inp_rates[dc_i] = 0.0;
'''
CPP_CLOSE = r'''
        dc_netrun += Network::_last_run_time;
        if (%(noboost)d || dc_got >= %(min_spikes)d || dc_b >= %(max_boosts)d)
            break;
        dc_int += %(step)r;
        dc_b++;
    }
    dc_spikes[dc_s] = dc_got;
    dc_boosts[dc_s] = dc_b;
    // normalisation: the weights onto each exc neuron sum to NORMALIZE
    {
        double *dc_w = _dynamic_array_s_in_w.data();
        const int32_t *dc_post = _dynamic_array_s_in__synaptic_post.data();
        const size_t dc_ns = _dynamic_array_s_in_w.size();
        std::fill(dc_sum.begin(), dc_sum.end(), 0.0);
        for (size_t dc_k = 0; dc_k < dc_ns; dc_k++)
            dc_sum[dc_post[dc_k]] += dc_w[dc_k];
        for (size_t dc_j = 0; dc_j < dc_sum.size(); dc_j++)
            dc_sum[dc_j] = dc_sum[dc_j] != 0.0 ? %(norm)r / dc_sum[dc_j] : 1.0;
        for (size_t dc_k = 0; dc_k < dc_ns; dc_k++)
            dc_w[dc_k] *= dc_sum[dc_post[dc_k]];
    }
}
const double dc_loop = dc_now() - dc_t0;
{
    FILE *dc_o = fopen("%(result)s", "w");
    fprintf(dc_o, "%%.9g %%.9g\n", dc_loop, dc_netrun);
    for (int dc_s = 0; dc_s < dc_n; dc_s++)
        fprintf(dc_o, "%%d %%d\n", dc_spikes[dc_s], dc_boosts[dc_s]);
    fclose(dc_o);
}
} // ---- end of the sample loop ----
'''


def run_standalone(a, images, net, bdir):
    exc, inh, inp, s_in, s_ei, s_ie, mon = net
    os.makedirs(bdir, exist_ok=True)
    images_path = os.path.join(os.path.abspath(bdir), 'dc_images.bin')
    result_path = os.path.join(os.path.abspath(bdir), 'dc_loop.txt')
    with open(images_path, 'wb') as f:
        f.write(np.ascontiguousarray(images).tobytes())
    if os.path.exists(result_path):
        os.remove(result_path)
    subst = dict(images=images_path, result=result_path, n=a.samples, npix=N_IN, npost=N_E, intensity=INTENSITY,
                 scale=MAX_RATE_HZ / 255.0, noboost=int(a.no_boost), min_spikes=MIN_SPIKES,
                 max_boosts=MAX_BOOSTS, step=INTENSITY_STEP, norm=NORMALIZE)
    inp.rates = 0 * Hz
    device.insert_code('main', CPP_OPEN % subst)
    run(PRESENT_MS * ms)
    device.insert_code('main', CPP_MID % subst)
    run(REST_MS * ms)
    device.insert_code('main', CPP_CLOSE % subst)
    t0 = time.time()
    device.build(directory=bdir, compile=True, run=True, debug=False, clean=not a.no_clean)
    build_total = time.time() - t0
    with open(result_path) as f:
        loop_s, netrun_s = (float(x) for x in f.readline().split())
        rows = np.loadtxt(f, dtype=np.int64, ndmin=2)
    return dict(loop_wall_s=loop_s, network_run_s=netrun_s, build_dir=bdir,
                compile_s=(device.timers['compile']['make'] or 0.0) +
                          (device.timers['compile']['clean'] or 0.0),
                run_binary_s=device.timers['run_binary'],
                build_time_s=build_total - device.timers['run_binary'],
                spikes=rows[:, 0], boosts=rows[:, 1],
                loop_time_source='std::chrono::steady_clock around the sample loop '
                                 'inside main() (rates, Network::run calls, boosts, '
                                 'normalisation)')


def main():
    a = parse()

    def emit(k, v):
        if isinstance(v, (float, np.floating)):
            v = f'{v:.6g}'
        print(f'{k}: {v}', flush=True)

    images = load_images(a.data, a.samples)
    bdir = None
    if a.device == 'cpp_standalone':
        bdir = a.build_dir or f'/tmp/brian2_bench/diehl_cook_t{a.threads}'
        set_device('cpp_standalone', build_on_run=False, directory=bdir)
        prefs.devices.cpp_standalone.openmp_threads = a.threads
        prefs.codegen.cpp.headers += ['<chrono>', '<cstdio>', '<vector>', '<algorithm>']
    else:
        prefs.codegen.target = 'cython'
    np.random.seed(a.seed)
    seed(a.seed)
    defaultclock.dt = DT_MS * ms

    t0 = time.time()
    net = build_network(a.plain_euler)
    setup_s = time.time() - t0

    emit('model', 'Diehl & Cook 2015, 784 -> 400 exc + 400 inh (snn experiments/mnist_stdp.cfg)')
    emit('brian2_version', brian2.__version__)
    emit('device', a.device if a.device == 'cpp_standalone' else
         f'runtime (cython, loop: {"one run() with a network_operation" if a.loop == "netop" else "run() per presentation"})')
    emit('threads', a.threads)
    emit('seed', a.seed)
    emit('dt_ms', DT_MS)
    emit('v_scheme', 'exponential Euler with the start-of-step conductances (--plain-euler)'
         if a.plain_euler else 'exponential Euler with the step-mean conductances (as snn)')
    emit('present_ms', PRESENT_MS)
    emit('rest_ms', REST_MS)
    emit('boost', 'off' if a.no_boost else
         f'on (< {MIN_SPIKES} exc spikes: again with intensity + {INTENSITY_STEP:g}, '
         f'at most {MAX_BOOSTS} times; decided inside the '
         f'{"binary" if bdir else "Python loop"})')
    emit('samples', a.samples)

    if bdir:
        r = run_standalone(a, images, net, bdir)
        emit('build_dir', r['build_dir'])
        emit('compile_s', r['compile_s'])
        emit('build_time_s', r['build_time_s'])
        emit('run_binary_s', r['run_binary_s'])
    else:
        r = (run_runtime_netop if a.loop == 'netop' else run_runtime)(a, images, net)
        emit('setup_s', setup_s)
        emit('warmup_s', r['warmup_s'])
    sp, bo = r['spikes'], r['boosts']
    loop_s = r['loop_wall_s']
    emit('loop_wall_s', loop_s)
    emit('loop_time_source', r['loop_time_source'])
    if 'network_run_s' in r:
        emit('network_run_s', r['network_run_s'])
    emit('samples_per_s', a.samples / loop_s)
    emit('presentations', int(a.samples + bo.sum()))
    emit('boosts', int(bo.sum()))
    emit('boosts_per_sample', float(bo.mean()))
    emit('samples_boosted', int((bo > 0).sum()))
    emit('exc_spikes_per_sample', float(sp.mean()))
    emit('exc_spikes_per_sample_first_half', float(sp[:max(1, len(sp) // 2)].mean()))
    emit('exc_spikes_per_sample_second_half', float(sp[len(sp) // 2:].mean()))
    emit('exc_spikes_by_sample', ' '.join(str(int(x)) for x in sp))
    emit('boosts_by_sample', ' '.join(str(int(x)) for x in bo))
    emit('network_time_s', (a.samples + int(bo.sum())) * (PRESENT_MS + REST_MS) / 1000.0)
    emit('total_script_s', time.time() - T_WALL0)


if __name__ == '__main__':
    main()
