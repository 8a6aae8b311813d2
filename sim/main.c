/*
 * sim/main.c: the `snn` command line.  The only place that prints or exits.
 *
 *   snn run FILE.cfg [-o OUT.h5] [-s key.path=value]... [--threads N] [--seed S] [--quiet]
 *   snn info OUT.h5
 *   snn bench [FILE.cfg...] [-s key=value]... [--threads N] [--duration-ms T]
 *   snn analyze OUT.h5 [--json] [--bin-ms T] [--pairs M] [--seed S] [--knn K]
 *   snn plot OUT.h5 [-o DIR] [--all-snapshots]
 *   snn help [run|info|bench|analyze|plot|config|models|model NAME]
 *   snn --help | --version
 *
 * Exit status: 0 success, 1 run-time failure (I/O, memory), 2 bad parameters
 * or usage, 130 interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "../io/cfg.h"
#include "../io/h5.h"
#include "../rules/rule.h"
#include "../io/idx.h"
#include "../io/analyze.h"
#include "../io/plot.h"
#include "net.h"
#include "protocol.h"
#include "checkpoint.h"
#include "ghl_run.h"
#include "readout_run.h"
#include "rec.h"
#include "sched.h"
#include "version.h"

static volatile sig_atomic_t g_stop = 0;
/* A checkpoint was written by this run (phases or readout stage). */
static int g_ckpt_taken = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int exit_code(int rc)
{
    switch (rc) {
    case SNN_OK:
        return 0;
    case SNN_ECFG:
        return 2;
    case SNN_EINTR:
        return 130;
    default:
        return 1;
    }
}

static int fail(const snn_err *e)
{
    fprintf(stderr, "snn: error: %s\n", e->msg);
    return exit_code(e->code);
}

/* ---- help texts ---------------------------------------------------------- */

static const char *const usage_main =
    "usage: snn <command> [options]\n"
    "\n"
    "snn simulates spiking networks of leaky integrate-and-fire neurons, exactly\n"
    "integrated per clock step, and records spikes, state and weights to HDF5.\n"
    "\n"
    "commands:\n"
    "  run FILE.cfg     simulate the network a parameter file describes\n"
    "  info OUT.h5      summarise a result file (populations, spikes, rates, parameters)\n"
    "  bench [FILE...]  time networks without recording (events/s, real-time factor)\n"
    "  analyze OUT.h5   spike statistics, representation and emergence metrics;\n"
    "                   printed and written into the file under /analysis\n"
    "  plot OUT.h5      PNG figures: raster, receptive fields, weights, curves\n"
    "  help TOPIC       run, info, bench, analyze, plot, config (parameter-file\n"
    "                   keys), models, model NAME (a model's parameters with\n"
    "                   units), rules, rule NAME (a plasticity rule's parameters)\n"
    "\n"
    "options:\n"
    "  -h, --help       this text;  snn help COMMAND for a command's options\n"
    "  -V, --version    print the version\n";

static const char *const usage_run =
    "usage: snn run FILE.cfg [options]\n"
    "       snn run --resume CHECKPOINT [-t N] [-s simulation.parallel_learning=B] [-q]\n"
    "\n"
    "Simulate the network described by FILE.cfg (libconfig syntax; see\n"
    "`snn help config` and experiments/*.cfg) and write an HDF5 file with the\n"
    "recorded spikes (SONATA layout), state, weights and the fully resolved\n"
    "parameters.  The file is written as OUT.h5.tmp and renamed when complete.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.h5     output file (default: output.path, else FILE.h5)\n"
    "  -s, --set KEY=VALUE     override a parameter, e.g. -s simulation.duration_ms=200\n"
    "                          or -s populations.exc.tau_m=10 (repeatable; VALUE in\n"
    "                          libconfig syntax, strings in double quotes)\n"
    "  -t, --threads N         OpenMP threads (results are identical for any N)\n"
    "      --seed S            master random seed (simulation.seed)\n"
    "  -q, --quiet             no progress or summary on the terminal\n"
    "      --resume CKPT       finish the run a checkpoint was taken of, with results\n"
    "                          identical to an uninterrupted run\n"
    "  -h, --help              this text\n"
    "\n"
    "Checkpoints (output.checkpoint, default OUT.h5.ckpt) are written every\n"
    "output.checkpoint_every_ms of simulated time (runs without phases),\n"
    "_samples of a plastic phase (and at every phase boundary) or _epochs of the\n"
    "readout, and on SIGINT or SIGTERM, which stop the run at the next step,\n"
    "plastic sample or epoch boundary (a frozen phase is abandoned and redone\n"
    "from its start): the result file is then not written.  --resume continues\n"
    "any stage (simulation, phases, readout) on any thread count, with or\n"
    "without simulation.parallel_learning (the only -s a resume takes).\n"
    "\n"
    "exit status: 0 ok, 1 run-time error, 2 bad parameters, 130 interrupted\n"
    "(a checkpoint was written)\n";

static const char *const usage_info =
    "usage: snn info OUT.h5\n"
    "\n"
    "Summarise a result file: run attributes, populations, spike counts, mean\n"
    "rate and its spread across neurons, silent neurons, and the stored\n"
    "parameters.  Works on any file in the SONATA spike layout.\n";

static const char *const usage_bench =
    "usage: snn bench [FILE.cfg...] [options]\n"
    "\n"
    "Build and simulate each network without recording, and print build time,\n"
    "simulation wall time, spikes, synaptic events delivered, events per second\n"
    "and the real-time factor.  Default files: experiments/cuba.cfg and\n"
    "experiments/brunel.cfg (relative to the current directory).\n"
    "\n"
    "options:\n"
    "  -s, --set KEY=VALUE     override a parameter in every file (repeatable)\n"
    "  -t, --threads N         OpenMP threads\n"
    "  -d, --duration-ms T     simulated time (ms)\n"
    "  -h, --help              this text\n";

static void print_params(FILE *out, const snn_param_desc *p, size_t n, const char *w_unit)
{
    for (size_t i = 0; i < n; i++) {
        const snn_param_desc *d = &p[i];
        if (d->choices) {
            fprintf(out, "  %-12s one of", d->key);
            for (const char *const *c = d->choices; *c; c++)
                fprintf(out, " \"%s\"", *c);
            fprintf(out, " (default \"%s\")\n      %s\n", d->choices[(int)d->def], d->doc);
        } else {
            const char *u = strcmp(d->unit, "w") == 0 ? w_unit : d->unit;
            fprintf(out, "  %-12s %-4s default %g, range [%g, %g]\n      %s\n", d->key, u,
                    d->def, d->lo, d->hi, d->doc);
        }
    }
}

static void print_rule(FILE *out, const snn_rule_type *t)
{
    fprintf(out, "plasticity rule %s: %s\n\nparameters (in a projection's plasticity group;\n"
                 "'weight' is the projection's weight unit: pA, mV or nS):\n",
            t->name, t->doc ? t->doc : "");
    print_params(out, t->params, t->n_params, "weight");
}

static void print_model(FILE *out, const snn_model_type *t)
{
    fprintf(out, "model %s: %s\n\nparameters:\n", t->name, t->doc ? t->doc : "");
    print_params(out, t->params, t->n_params, "weight");
    if (t->n_state) {
        fprintf(out, "\nstate variables (recordable; initial values under `init`):\n");
        for (size_t i = 0; i < t->n_state; i++)
            fprintf(out, "  %-12s %s\n", t->state[i], t->state_unit[i]);
    }
    if (t->n_channels) {
        fprintf(out, "\nreceptors:");
        for (size_t i = 0; i < t->n_channels; i++)
            fprintf(out, " %s", t->channels[i]);
        fprintf(out, "\n");
    }
}

/* ---- analyze and plot ---------------------------------------------------- */

static const char *const usage_analyze =
    "usage: snn analyze OUT.h5 [options]\n"
    "\n"
    "Analyze a result file (or any SONATA spike file) and print the results:\n"
    "  spikes          per population: rate distribution (Hz), CV of inter-spike\n"
    "                  intervals, Fano factor of counts in --bin-ms windows,\n"
    "                  count correlation of sampled pairs, silent and saturated\n"
    "                  neurons (a spike in at least half of the dt steps)\n"
    "  representation  on /features (evaluate's assign phase -> test phase):\n"
    "                  linear-probe (ridge) and kNN accuracy, Treves-Rolls\n"
    "                  population and lifetime sparsity, class selectivity\n"
    "  emergence       the same at every snapshot of /probe (per class, every\n"
    "                  other probe trains, the rest test)\n"
    "  receptive_fields  per weight snapshot: mean cosine similarity of the\n"
    "                  neurons' input weights and the number of prototypes\n"
    "  guidance        guided learning (/ghl): the guiding readout's accuracy and\n"
    "                  the fraction of local updates the global sign reversed or\n"
    "                  gated, over the first and the last tenth of the batches\n"
    "  alignment       summary of the readout's Hebbian alignment curves\n"
    "Parts without data are skipped.  Results are also written into the file\n"
    "under /analysis (layout: io/analyze.h), through a copy OUT.h5.tmp that\n"
    "replaces the file only when complete.\n"
    "\n"
    "options:\n"
    "      --json              print JSON instead of a table\n"
    "      --bin-ms T          count window for Fano factor and correlation (100)\n"
    "      --pairs M           sampled pairs for the correlation (200)\n"
    "      --seed S            seed of the pair sampling (1)\n"
    "      --knn K             neighbours for kNN (5)\n"
    "  -h, --help              this text\n";

static const char *const usage_plot =
    "usage: snn plot OUT.h5 [-o DIR] [--all-snapshots]\n"
    "       snn plot --alignment A.h5 B.h5 ... [-o DIR] [--smooth K]\n"
    "\n"
    "Draw PNG figures of a result file (or any SONATA spike file) into DIR\n"
    "(default: the current directory), each only when its data is present:\n"
    "spike raster with population rate (raster_POP.png), receptive-field grid\n"
    "of the last weight snapshot (rf_PROJ.png), weight histograms over time\n"
    "(weights_PROJ.png), readout learning curves, confusion matrices, emergence\n"
    "curves written by `snn analyze`, the readout's alignment curves, and\n"
    "guided learning's batch curves (ghl_PROJ.png).\n"
    "The files made are listed.\n"
    "With --alignment, the readout alignment curves of up to 6 files are overlaid\n"
    "in DIR/alignment.png, one panel per weight matrix, labelled by file name.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR        directory for the PNG files (created if missing)\n"
    "  -a, --all-snapshots     also one receptive-field grid per weight snapshot\n"
    "  -A, --alignment         overlay the alignment curves of the files given\n"
    "  -s, --smooth K          with --alignment: running mean over K updates (1)\n"
    "  -h, --help              this text\n";

/* Parse a number in [lo, hi] for option `what`; prints the error. */
static int opt_num(const char *s, const char *what, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *end || !(*v >= lo && *v <= hi)) {
        fprintf(stderr, "snn: error: %s '%s' must be a number in [%g, %g]\n", what, s, lo, hi);
        return 2;
    }
    return 0;
}

static int cmd_analyze(int argc, char **argv)
{
    static const struct option lo[] = {{"json", no_argument, 0, 'j'},
                                       {"bin-ms", required_argument, 0, 'b'},
                                       {"pairs", required_argument, 0, 'p'},
                                       {"seed", required_argument, 0, 'S'},
                                       {"knn", required_argument, 0, 'k'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    snn_an_opts o;
    snn_an_opts_default(&o);
    int c, rc = 0;
    double v;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'j':
            o.json = 1;
            break;
        case 'b':
            rc = opt_num(optarg, "--bin-ms", 1e-6, 1e12, &v);
            o.bin_ms = v;
            break;
        case 'p':
            rc = opt_num(optarg, "--pairs", 0, 1e7, &v);
            o.n_pairs = (size_t)v;
            break;
        case 'S':
            rc = opt_num(optarg, "--seed", 0, 4294967295.0, &v);
            o.seed = (uint64_t)v;
            break;
        case 'k':
            rc = opt_num(optarg, "--knn", 1, 1e6, &v);
            o.knn_k = (size_t)v;
            break;
        case 'h':
            fputs(usage_analyze, stdout);
            return 0;
        default:
            rc = 2;
        }
    }
    if (!rc && optind != argc - 1) {
        fprintf(stderr, "snn: error: analyze takes one file\n%s", usage_analyze);
        rc = 2;
    }
    if (rc)
        return rc;
    snn_err err;
    snn_err_clear(&err);
    if (snn_analyze(argv[optind], &o, stdout, &err))
        return fail(&err);
    return 0;
}

static int cmd_plot(int argc, char **argv)
{
    static const struct option lo[] = {{"output", required_argument, 0, 'o'},
                                       {"all-snapshots", no_argument, 0, 'a'},
                                       {"alignment", no_argument, 0, 'A'},
                                       {"smooth", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    snn_plot_opts o = {0};
    const char *dir = ".";
    int c, rc = 0, overlay = 0;
    double smooth = 1;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "o:aAs:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'a':
            o.all_snapshots = 1;
            break;
        case 'A':
            overlay = 1;
            break;
        case 's':
            rc = opt_num(optarg, "--smooth", 1, 100000, &smooth);
            if (!rc && smooth != floor(smooth)) {
                fprintf(stderr, "snn: error: --smooth '%s' must be a whole number\n", optarg);
                rc = 2;
            }
            break;
        case 'h':
            fputs(usage_plot, stdout);
            return 0;
        default:
            rc = 2;
        }
    }
    if (!rc && overlay && optind >= argc) {
        fprintf(stderr, "snn: error: plot --alignment takes one or more files\n%s", usage_plot);
        rc = 2;
    } else if (!rc && !overlay && optind != argc - 1) {
        fprintf(stderr, "snn: error: plot takes one file\n%s", usage_plot);
        rc = 2;
    }
    if (rc)
        return rc;
    snn_err err;
    snn_err_clear(&err);
    if (overlay) {
        if (snn_plot_alignment((const char *const *)(argv + optind), (size_t)(argc - optind), dir,
                               (size_t)smooth, stdout, &err))
            return fail(&err);
        return 0;
    }
    if (snn_plot(argv[optind], dir, &o, stdout, NULL, &err))
        return fail(&err);
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    const char *topic = argc > 1 ? argv[1] : NULL;
    if (!topic) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(topic, "run"))
        fputs(usage_run, stdout);
    else if (!strcmp(topic, "info"))
        fputs(usage_info, stdout);
    else if (!strcmp(topic, "bench"))
        fputs(usage_bench, stdout);
    else if (!strcmp(topic, "analyze"))
        fputs(usage_analyze, stdout);
    else if (!strcmp(topic, "plot"))
        fputs(usage_plot, stdout);
    else if (!strcmp(topic, "config"))
        snn_cfg_help(stdout);
    else if (!strcmp(topic, "models")) {
        for (size_t i = 0; snn_model_at(i); i++)
            printf("  %-12s %s\n", snn_model_at(i)->name,
                   snn_model_at(i)->is_source ? "(spike source)" : "(neuron)");
        printf("\nsnn help model NAME prints a model's parameters.\n");
    } else if (!strcmp(topic, "rules")) {
        for (size_t i = 0; snn_rule_at(i); i++)
            printf("  %-14s %s\n", snn_rule_at(i)->name, snn_rule_at(i)->doc);
        printf("\nsnn help rule NAME prints a rule's parameters.\n");
    } else if (!strcmp(topic, "rule")) {
        const snn_rule_type *t = argc > 2 ? snn_rule_find(argv[2]) : NULL;
        if (!t) {
            fprintf(stderr, "snn: error: %s; `snn help rules` lists them\n",
                    argc > 2 ? "no such rule" : "which rule?");
            return 2;
        }
        print_rule(stdout, t);
    } else if (!strcmp(topic, "model")) {
        const snn_model_type *t = argc > 2 ? snn_model_find(argv[2]) : NULL;
        if (!t) {
            fprintf(stderr, "snn: error: %s; `snn help models` lists them\n",
                    argc > 2 ? "no such model" : "which model?");
            return 2;
        }
        print_model(stdout, t);
    } else {
        fprintf(stderr, "snn: error: no help topic '%s'\n%s", topic, usage_main);
        return 2;
    }
    return 0;
}

/* ---- progress ------------------------------------------------------------ */

typedef struct progress {
    int tty, quiet;
    double t0, dt_ms, last;
} progress;

static void show_progress(void *ud, size_t step, size_t n_steps)
{
    progress *pg = ud;
    double t = now_s(), el = t - pg->t0;
    if (!pg->tty) {
        /* Not a terminal: one line when the phase ends, no bar. */
        if (step >= n_steps && !pg->quiet)
            fprintf(stderr, "snn: simulated %.1f ms in %.2f s\n", (double)step * pg->dt_ms, el);
        return;
    }
    if (t - pg->last < 0.1 && step < n_steps)
        return;
    pg->last = t;
    double frac = n_steps ? (double)step / (double)n_steps : 1.0;
    int w = 30, fill = (int)(frac * w);
    char bar[64];
    for (int i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = '\0';
    double sim_ms = (double)step * pg->dt_ms;
    double eta = frac > 0 ? el * (1 - frac) / frac : 0;
    fprintf(stderr, "\r  simulate [%s] %9.1f / %.1f ms  %6.2fx real time  ETA %5.1f s ", bar,
            sim_ms, (double)n_steps * pg->dt_ms, el > 0 ? sim_ms / 1000.0 / el : 0.0, eta);
    if (step >= n_steps)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- run ----------------------------------------------------------------- */

typedef struct run_args {
    const char *cfg;
    const char *output;
    const char **sets;
    size_t n_sets;
    int threads;
    int quiet;
    char seed[32];
    const char *resume;
} run_args;

/* Turn -o/--seed/--threads into ordinary overrides so the resolved
   parameter set stored in the file records them. */
static int build_overrides(const run_args *a, const char ***out, size_t *n, char **keep,
                           size_t n_keep)
{
    const char **ov = malloc((a->n_sets + 3) * sizeof *ov);
    if (!ov)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < a->n_sets; i++)
        ov[m++] = a->sets[i];
    for (size_t i = 0; i < n_keep; i++)
        if (keep[i])
            ov[m++] = keep[i];
    *out = ov;
    *n = m;
    return 0;
}

static void iso_time(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_meta(snn_h5 *h, const snn_net *net, const snn_spec *sp, const char *cmdline,
                      snn_err *err)
{
    char ts[64];
    iso_time(ts, sizeof ts);
    int rc;
    if ((rc = snn_h5_attr_str(h, "/", "snn_version", snn_version, err)) ||
        (rc = snn_h5_attr_u64(h, "/", "seed", sp->seed, err)) ||
        (rc = snn_h5_attr_u64(h, "/", "threads",
                              sp->integrator == SNN_INTEGRATOR_EVENT ? 1
                              : (uint64_t)(net ? net->threads : omp_get_max_threads()), err)) ||
        (rc = snn_h5_attr_str(h, "/", "start_time", ts, err)) ||
        (rc = snn_h5_attr_double(h, "/", "dt_ms", sp->dt_ms, err)) ||
        (rc = snn_h5_attr_double(h, "/", "duration_ms",
                                 net ? (double)net->n_steps * sp->dt_ms : 0.0, err)) ||
        (rc = snn_h5_attr_str(h, "/", "source", sp->source, err)) ||
        (rc = snn_h5_attr_str(h, "/", "command_line", cmdline, err)) ||
        (rc = snn_h5_attr_str(h, "/", "integrator",
                                  sp->integrator == SNN_INTEGRATOR_EVENT ? "event" : "clock", err)) ||
        (rc = snn_h5_write_str(h, "/config", sp->resolved ? sp->resolved : "", err)))
        return rc;
    for (size_t i = 0; net && i < net->n_pops; i++) {
        const snn_pop *p = &net->pops[i];
        char g[SNN_NAME_MAX + 16], key[128];
        snprintf(g, sizeof g, "/populations/%s", p->name);
        if ((rc = snn_h5_attr_str(h, g, "model", p->type->name, err)) ||
            (rc = snn_h5_attr_u64(h, g, "size", p->n, err)) ||
            (rc = snn_h5_attr_str(h, g, "kind", p->type->is_source ? "input" : "population", err)))
            return rc;
        for (size_t k = 0; k < p->type->n_params; k++) {
            const snn_param_desc *d = &p->type->params[k];
            if (d->choices) {
                rc = snn_h5_attr_str(h, g, d->key, d->choices[(int)p->par[k]], err);
            } else {
                snprintf(key, sizeof key, "%s_unit", d->key);
                if (!(rc = snn_h5_attr_double(h, g, d->key, p->par[k], err)))
                    rc = snn_h5_attr_str(h, g, key, d->unit, err);
            }
            if (rc)
                return rc;
        }
    }
    for (size_t j = 0; net && j < net->n_projs; j++) {
        const snn_proj *pj = &net->projs[j];
        char g[SNN_NAME_MAX + 16];
        snprintf(g, sizeof g, "/projections/%s", pj->spec->name);
        if ((rc = snn_h5_attr_str(h, g, "pre", pj->pre->name, err)) ||
            (rc = snn_h5_attr_str(h, g, "post", pj->post->name, err)) ||
            (rc = snn_h5_attr_str(h, g, "receptor", pj->post->type->channels[pj->channel], err)) ||
            (rc = snn_h5_attr_str(h, g, "connector", snn_conn_names[pj->spec->conn], err)) ||
            (rc = snn_h5_attr_u64(h, g, "synapses", pj->nnz, err)) ||
            (rc = snn_h5_attr_str(h, g, "weight_unit",
                                  pj->post->type->weight_unit(pj->post->par), err)))
            return rc;
    }
    return SNN_OK;
}

/* Threads the run uses: the event integrator is single-threaded. */
static int run_threads(const snn_net *net)
{
    return net->spec->integrator == SNN_INTEGRATOR_EVENT ? 1 : net->threads;
}

static void print_summary(FILE *out, const snn_net *net, double sim_s)
{
    double dur_s = (double)net->step * net->dt_ms / 1000.0;
    fprintf(out, "%-14s %9s %12s %10s\n", "population", "neurons", "spikes", "rate (Hz)");
    for (size_t i = 0; i < net->n_pops; i++) {
        const snn_pop *p = &net->pops[i];
        fprintf(out, "%-14s %9zu %12llu %10.3f\n", p->name, p->n,
                (unsigned long long)net->spike_count[i],
                dur_s > 0 ? (double)net->spike_count[i] / (double)p->n / dur_s : 0.0);
    }
    uint64_t ev = snn_net_events(net);
    fprintf(out, "synapses %zu, synaptic events %llu (%.3g /s), build %.2f s, simulate %.2f s "
                 "(%.2fx real time), %d thread%s\n",
            snn_net_synapses(net), (unsigned long long)ev, sim_s > 0 ? (double)ev / sim_s : 0.0,
            net->build_s, sim_s, sim_s > 0 ? dur_s / sim_s : 0.0, run_threads(net),
            run_threads(net) == 1 ? "" : "s");
}

/* ---- experiments with phases ---------------------------------------------- */

/* Each phase's loop reports once at its start (done = the samples a
   resumed run starts from, else 0), then after samples; rates and the ETA
   count only the samples done since that start. */
typedef struct phase_progress {
    int tty, quiet;
    const snn_spec *sp;
    double t0, last;
    size_t phase, done0;
} phase_progress;

static void show_phase_progress(void *ud, size_t phase, size_t done, size_t total)
{
    phase_progress *pg = ud;
    double t = now_s();
    if (phase != pg->phase) {
        pg->phase = phase;
        pg->t0 = t;
        pg->done0 = done;
    }
    size_t now = done - pg->done0;
    double el = t - pg->t0, rate = el > 0 ? (double)now / el : 0;
    const char *name = pg->sp->phases[phase].name;
    if (!pg->tty) {
        if (done == total && !pg->quiet) {
            fprintf(stderr, "snn: phase %s: %zu samples in %.1f s (%.1f samples/s)", name, now,
                    el, rate);
            if (pg->done0)
                fprintf(stderr, ", resumed after %zu of %zu", pg->done0, total);
            fputc('\n', stderr);
        }
        return;
    }
    if (t - pg->last < 0.1 && done < total)
        return;
    pg->last = t;
    int w = 30, fill = (int)((double)done / (double)total * w);
    char bar[64];
    for (int i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = '\0';
    fprintf(stderr, "\r  %-10s [%s] %7zu / %zu samples  %7.1f samples/s  ETA %6.1f s ", name,
            bar, done, total, rate, rate > 0 ? (double)(total - done) / rate : 0.0);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Checkpoints of the phases (stage "phases"): the network, the output and
   the protocol's items (sim/protocol.h). */
typedef struct phases_ckpt {
    const snn_spec *sp;
    const snn_net *net;
    snn_rec *rec;
    snn_h5 *h;
    const snn_protocol_ckpt *pc;
    const snn_ghl_run *gr;          /* guided learning's loop, or NULL */
} phases_ckpt;

static int phases_ckpt_items(void *ud, snn_ckpt *c, snn_err *err)
{
    const phases_ckpt *k = ud;
    snn_state_io io = snn_ckpt_io(c);
    int rc = snn_protocol_ckpt_save(k->pc, &io, err);
    return !rc && k->gr ? snn_ghl_run_save(k->gr, &io, err) : rc;
}

static int phases_ckpt_write(void *ud, const snn_protocol_ckpt *pc, snn_err *err)
{
    phases_ckpt *k = ud;
    k->pc = pc;
    int rc = snn_checkpoint_write(k->sp->checkpoint, k->sp, k->net, k->rec, k->h, "phases",
                                  phases_ckpt_items, k, err);
    if (!rc)
        g_ckpt_taken = 1;
    return rc;
}

/* Load the splits the phases use and run them; `ck` (may be NULL) is a
   checkpoint of stage "phases" to continue from (the network and the
   output already restored from it). */
static int run_phases(snn_net *net, const snn_spec *sp, snn_rec *rec, snn_h5 *h, int quiet,
                      int tty, snn_ckpt *ck, snn_protocol_result *res, snn_err *err)
{
    snn_dataset *split[2] = {NULL, NULL};
    size_t need[2] = {0, 0};
    bool all[2] = {false, false};
    for (size_t f = 0; f < sp->n_phases; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        if (ph->samples > need[ph->split])
            need[ph->split] = ph->samples;
        all[ph->split] |= ph->shuffle_seed != 0;
        if (ph->probe > need[ph->probe_split]) /* emergence probe: first N images */
            need[ph->probe_split] = ph->probe;
    }
    static const char *const names[2] = {"train", "t10k"};
    int rc = SNN_OK;
    for (int q = 0; q < 2 && !rc; q++)
        if (need[q])
            rc = snn_idx_load_dir(sp->data.directory, names[q], all[q] ? 0 : need[q], &split[q],
                                  err);
    snn_ghl_run *gr = NULL; /* group `guided`: GHL's loop (sim/ghl_run.h) */
    if (!rc && sp->guided.on)
        rc = snn_ghl_run_create(&gr, net, err);
    snn_state_io io = {0};
    if (ck)
        io = snn_ckpt_io(ck);
    if (!rc && gr && ck)
        rc = snn_ghl_run_load(gr, &io, err);
    if (!rc) {
        phase_progress pg = {tty, quiet, sp, now_s(), 0, SIZE_MAX, 0};
        phases_ckpt pk = {.sp = sp, .net = net, .rec = rec, .h = h, .gr = gr};
        snn_protocol_opts po = {.progress = show_phase_progress, .ud = &pg, .stop = &g_stop,
                                .keep_features = sp->readout.on,
                                .checkpoint = phases_ckpt_write, .ckpt_ud = &pk,
                                .ckpt_every = sp->ckpt_every_samples,
                                .resume = ck ? &io : NULL,
                                .on_sample = gr ? snn_ghl_run_on_sample : NULL,
                                .sample_ud = gr};
        const snn_dataset *const cs[2] = {split[0], split[1]};
        rc = snn_protocol_run(net, cs, rec, h, &po, res, err);
    }
    if (!rc && gr)
        rc = snn_ghl_run_write_h5(gr, h, err);
    snn_ghl_run_free(gr);
    for (int q = 0; q < 2 && !rc; q++)
        if (split[q]) {
            char key[64];
            snprintf(key, sizeof key, "%s_samples_available", q ? "test" : "train");
            rc = snn_h5_attr_u64(h, "/results", key, split[q]->n, err);
        }
    for (size_t f = 0; f < sp->n_phases && f < 16 && !rc; f++) {
        char g[SNN_NAME_MAX + 32];
        snprintf(g, sizeof g, "/results/phases/%s", sp->phases[f].name);
        if (!(rc = snn_h5_attr_double(h, g, "samples_per_s", res->samples_per_s[f], err)))
            rc = snn_h5_attr_u64(h, g, "boosts", res->boosts[f], err);
    }
    snn_dataset_free(split[0]);
    snn_dataset_free(split[1]);
    return rc;
}

static void print_phases(FILE *out, const snn_spec *sp, const snn_protocol_result *res)
{
    fprintf(out, "%-14s %9s %9s %12s %8s\n", "phase", "split", "samples", "samples/s", "boosts");
    for (size_t f = 0; f < sp->n_phases && f < 16; f++)
        fprintf(out, "%-14s %9s %9zu %12.1f %8u\n", sp->phases[f].name,
                sp->phases[f].split ? "test" : "train", sp->phases[f].samples,
                res->samples_per_s[f], res->boosts[f]);
    if (!res->evaluated)
        return;
    fprintf(out, "vote accuracy on '%s': %.2f %%\nconfusion (rows: true class, columns: "
                 "predicted):\n",
            sp->phases[sp->eval.test_phase].name, 100.0 * res->accuracy);
    for (int c = 0; c < 10; c++) {
        for (int d = 0; d < 10; d++)
            fprintf(out, " %5llu", (unsigned long long)res->confusion[c * 10 + d]);
        fputc('\n', out);
    }
    for (size_t k = 0; k < sp->robust.n; k++) {
        char name[32];
        snn_perturb_format(&sp->robust.p[k], name, sizeof name);
        fprintf(out, "  vote under %-16s %.2f %%\n", name, 100.0 * res->robust_vote[k]);
    }
}

/* ---- the readout stage ------------------------------------------------------ */

typedef struct epoch_progress {
    int quiet;
    double t0;
} epoch_progress;

static void show_epoch(void *ud, unsigned done, unsigned total, double loss, double train_acc,
                       double test_acc)
{
    epoch_progress *e = ud;
    if (e->quiet)
        return;
    double el = now_s() - e->t0;
    fprintf(stderr, "snn: readout epoch %u/%u: loss %.4f, train %.2f %%, test %.2f %%  "
                    "(%.1f s, ETA %.1f s)\n",
            done, total, loss, 100.0 * train_acc, 100.0 * test_acc, el,
            done ? el / done * (total - done) : 0.0);
}

static void print_readout(FILE *out, const snn_spec *sp, const snn_readout_run_result *r)
{
    fprintf(out, "readout (%s, %zu inputs): trained on %zu samples x %u epochs in %.1f s "
                 "(%.0f samples/s)\n",
            sp->readout.pixels      ? "pixels"
            : sp->readout.from_file ? "features of an earlier run"
                                    : "features",
            r->n_in, r->n_train,
            sp->readout.cfg.epochs, r->train_s, r->samples_per_s);
    fprintf(out, "readout test accuracy: %.2f %% (%zu samples)\n", 100.0 * r->accuracy,
            r->n_test);
    for (size_t k = 0; k < sp->robust.n; k++) {
        char name[32];
        snn_perturb_format(&sp->robust.p[k], name, sizeof name);
        fprintf(out, "  under %-16s %.2f %%\n", name, 100.0 * r->robust[k]);
    }
}

/* Readout checkpoints: the run's checkpoint with the learner's state. */
typedef struct readout_ckpt {
    const snn_spec *sp;
    const snn_net *net;
    snn_rec *rec;                  /* flushed before the image (may be NULL) */
    snn_h5 *h;
    const void *blob;
    size_t len;
    snn_ckpt_extra_fn more;        /* the stage's other items (features), or NULL */
    void *more_ud;
} readout_ckpt;

static int readout_ckpt_items(void *ud, snn_ckpt *c, snn_err *err)
{
    readout_ckpt *k = ud;
    int rc = snn_ckpt_put_blob(c, "readout/blob", k->blob, k->len, err);
    return !rc && k->more ? k->more(k->more_ud, c, err) : rc;
}

static int readout_ckpt_write(void *ud, const void *blob, size_t len, snn_err *err)
{
    readout_ckpt *k = ud;
    k->blob = blob;
    k->len = len;
    int rc = snn_checkpoint_write(k->sp->checkpoint, k->sp, k->net, k->rec, k->h, "readout",
                                  readout_ckpt_items, k, err);
    if (!rc)
        g_ckpt_taken = 1;
    return rc;
}

/* The phases a hybrid readout reads: train, test, and the robustness
   copies of the test phase. */
static size_t readout_phases(const snn_spec *sp, size_t *phase)
{
    size_t n = 0;
    phase[n++] = sp->readout.train_phase;
    phase[n++] = sp->readout.test_phase;
    for (size_t k = 0; k < sp->robust.n; k++)
        phase[n++] = sp->robust.readout_phase[k];
    return n;
}

/*
 * The readout stage of a hybrid run checkpoints what it needs of the
 * phases, so that resuming does not redo them:
 *   readout/phases/<f>/dims      uint64 [samples, columns]
 *   readout/phases/<f>/counts    uint32 [samples * columns]
 *   readout/phases/<f>/labels    uint64 [samples]
 *   readout/vote/accuracy        float64 [1 + perturbations] (clean, robust)
 *   readout/vote/confusion       uint64 [100]
 *   readout/vote/head            uint32 [evaluated, boosts per phase (16)]
 *   readout/vote/samples_per_s   float64 [16]
 * (the vote results for the summary printed at the end; the result file
 * already holds them).
 */
typedef struct pres_ckpt {
    const snn_spec *sp;
    const snn_protocol_result *pres;
} pres_ckpt;

static int pres_ckpt_items(void *ud, snn_ckpt *c, snn_err *err)
{
    const pres_ckpt *k = ud;
    const snn_protocol_result *r = k->pres;
    snn_state_io io = snn_ckpt_io(c);
    size_t phase[2 + SNN_MAX_PERTURB], n = readout_phases(k->sp, phase);
    char name[96];
    int rc = SNN_OK;
    for (size_t q = 0; q < n && !rc; q++) {
        const snn_phase_features *f = &r->features[phase[q]];
        size_t e = 0;
        while (e < q && phase[e] != phase[q])
            e++;
        if (e < q)
            continue; /* listed twice */
        uint64_t dims[2] = {f->n, f->cols};
        snprintf(name, sizeof name, "readout/phases/%zu/dims", phase[q]);
        if ((rc = io.put(io.ud, name, SNN_ST_U64, dims, 2, err)))
            break;
        snprintf(name, sizeof name, "readout/phases/%zu/labels", phase[q]);
        if ((rc = io.put(io.ud, name, SNN_ST_U64, f->labels, f->n, err)))
            break;
        snprintf(name, sizeof name, "readout/phases/%zu/counts", phase[q]);
        if (f->n && f->cols)
            rc = io.put(io.ud, name, SNN_ST_U32, f->counts, f->n * f->cols, err);
    }
    double acc[1 + SNN_MAX_PERTURB] = {r->accuracy};
    memcpy(acc + 1, r->robust_vote, sizeof r->robust_vote);
    uint32_t head[17] = {r->evaluated};
    for (size_t f = 0; f < 16; f++)
        head[1 + f] = r->boosts[f];
    if (!rc)
        rc = io.put(io.ud, "readout/vote/accuracy", SNN_ST_F64, acc, 1 + SNN_MAX_PERTURB, err);
    if (!rc)
        rc = io.put(io.ud, "readout/vote/confusion", SNN_ST_U64, r->confusion, 100, err);
    if (!rc)
        rc = io.put(io.ud, "readout/vote/head", SNN_ST_U32, head, 17, err);
    if (!rc)
        rc = io.put(io.ud, "readout/vote/samples_per_s", SNN_ST_F64, r->samples_per_s, 16, err);
    return rc;
}

/* The inverse: r->features gets the readout's phases (the others empty). */
static int pres_ckpt_load(snn_ckpt *c, const snn_spec *sp, snn_protocol_result *r, snn_err *err)
{
    snn_state_io io = snn_ckpt_io(c);
    memset(r, 0, sizeof *r);
    if (!(r->features = calloc(sp->n_phases + 1, sizeof *r->features)))
        SNN_FAIL(err, SNN_ENOMEM, "out of memory restoring the features");
    r->n_phases = sp->n_phases;
    size_t phase[2 + SNN_MAX_PERTURB], n = readout_phases(sp, phase);
    char name[96];
    int rc = SNN_OK;
    for (size_t q = 0; q < n && !rc; q++) {
        snn_phase_features *f = &r->features[phase[q]];
        if (f->labels)
            continue; /* listed twice */
        uint64_t dims[2];
        snprintf(name, sizeof name, "readout/phases/%zu/dims", phase[q]);
        if ((rc = io.get(io.ud, name, SNN_ST_U64, dims, 2, err)))
            break;
        if (dims[0] != sp->phases[phase[q]].samples || dims[1] > SIZE_MAX / (dims[0] + 1)) {
            rc = snn_err_set(err, SNN_ECFG, "checkpoint: the features of phase '%s' do not fit "
                             "the run", sp->phases[phase[q]].name);
            break;
        }
        f->n = dims[0];
        f->cols = dims[1];
        f->labels = malloc((f->n + 1) * sizeof *f->labels);
        f->counts = f->cols ? malloc((f->n * f->cols + 1) * sizeof *f->counts) : NULL;
        if (!f->labels || (f->cols && !f->counts)) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory restoring the features");
            break;
        }
        snprintf(name, sizeof name, "readout/phases/%zu/labels", phase[q]);
        if ((rc = io.get(io.ud, name, SNN_ST_U64, f->labels, f->n, err)))
            break;
        snprintf(name, sizeof name, "readout/phases/%zu/counts", phase[q]);
        if (f->n && f->cols)
            rc = io.get(io.ud, name, SNN_ST_U32, f->counts, f->n * f->cols, err);
    }
    double acc[1 + SNN_MAX_PERTURB];
    uint32_t head[17];
    if (!rc)
        rc = io.get(io.ud, "readout/vote/accuracy", SNN_ST_F64, acc, 1 + SNN_MAX_PERTURB, err);
    if (!rc)
        rc = io.get(io.ud, "readout/vote/confusion", SNN_ST_U64, r->confusion, 100, err);
    if (!rc)
        rc = io.get(io.ud, "readout/vote/head", SNN_ST_U32, head, 17, err);
    if (!rc)
        rc = io.get(io.ud, "readout/vote/samples_per_s", SNN_ST_F64, r->samples_per_s, 16, err);
    if (!rc) {
        r->accuracy = acc[0];
        memcpy(r->robust_vote, acc + 1, sizeof r->robust_vote);
        r->evaluated = head[0] != 0;
        for (size_t f = 0; f < 16; f++)
            r->boosts[f] = head[1 + f];
    }
    return rc;
}

/* The readout on the features of the phases (the hybrid pipeline),
   checkpointing between epochs (stage "readout"); `ck` (may be NULL) is a
   checkpoint of that stage to continue from. */
static int readout_on_features(const snn_spec *sp, const snn_protocol_result *pres,
                               const snn_net *net, snn_rec *rec, snn_h5 *h, snn_ckpt *ck,
                               const run_args *a, snn_readout_run_result *rr, snn_err *err)
{
    const snn_robust_spec *rb = &sp->robust;
    size_t phase[2 + SNN_MAX_PERTURB], n_sets = readout_phases(sp, phase);
    uint8_t *lab[2 + SNN_MAX_PERTURB] = {NULL};
    snn_feature_set set[2 + SNN_MAX_PERTURB];
    int rc = SNN_OK;
    for (size_t q = 0; q < n_sets && !rc; q++) {
        const snn_phase_features *f = &pres->features[phase[q]];
        if (!(lab[q] = malloc(f->n + 1))) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the readout's labels");
            break;
        }
        for (size_t i = 0; i < f->n; i++)
            lab[q][i] = (uint8_t)f->labels[i];
        set[q] = (snn_feature_set){.counts = f->counts, .labels = lab[q], .n = f->n,
                                   .dim = f->cols};
    }
    if (!rc) {
        snn_readout_inputs in = {.train = set[0], .test = set[1]};
        for (size_t k = 0; k < rb->n; k++)
            in.robust[k] = set[2 + k];
        unsigned char *blob = NULL;
        size_t blen = 0;
        if (ck)
            rc = snn_ckpt_get_blob(ck, "readout/blob", &blob, &blen, err);
        epoch_progress ep = {a->quiet, now_s()};
        pres_ckpt pk = {.sp = sp, .pres = pres};
        readout_ckpt rk = {.sp = sp, .net = net, .rec = rec, .h = h, .more = pres_ckpt_items,
                           .more_ud = &pk};
        snn_readout_run_opts o = {.epoch = show_epoch, .ud = &ep, .stop = &g_stop,
                                  .checkpoint = readout_ckpt_write, .ckpt_ud = &rk,
                                  .every = sp->ckpt_every_epochs, .resume = blob,
                                  .resume_len = blen};
        if (!rc)
            rc = snn_readout_run(sp, &in, h, &o, rr, err);
        free(blob);
    }
    for (size_t q = 0; q < n_sets; q++)
        free(lab[q]);
    return rc;
}

/* input "file": the train and test features an earlier run stored. */
typedef struct file_features {
    uint32_t *counts[2];
    uint8_t *labels[2];
    size_t n[2], dim[2];
} file_features;

static void file_features_free(file_features *ff)
{
    for (int q = 0; q < 2; q++) {
        free(ff->counts[q]);
        free(ff->labels[q]);
    }
}

static int load_file_features(const snn_readout_spec *ro, file_features *ff, snn_err *err)
{
    _Static_assert(SNN_NAME_MAX == 64, "snn_an_read_phase_features takes names of 64 chars");
    memset(ff, 0, sizeof *ff);
    hid_t f;
    int rc = snn_an_open(ro->file, 0, &f, err);
    if (rc)
        return rc;
    const char *ph[2] = {ro->train_name, ro->test_name};
    for (int q = 0; q < 2 && !rc; q++)
        rc = snn_an_read_phase_features(f, ro->file, ph[q], ro->file_pops, ro->n_file_pops,
                                        &ff->counts[q], &ff->labels[q], &ff->n[q], &ff->dim[q],
                                        err);
    H5Fclose(f);
    if (!rc && ff->dim[0] != ff->dim[1])
        rc = snn_err_set(err, SNN_EIO, "%s: phases '%s' and '%s' stored features of different "
                         "widths (%zu and %zu neurons): name the populations to use in "
                         "readout.populations", ro->file, ph[0], ph[1], ff->dim[0], ff->dim[1]);
    if (!rc && !ff->n[0])
        rc = snn_err_set(err, SNN_EIO, "%s: phase '%s' stored no samples", ro->file, ph[0]);
    if (rc)
        file_features_free(ff);
    return rc;
}

/* A run without a network: the readout on the pixels (pure backprop) or on
   the features of an earlier run (input "file"); `ck` (may be NULL) is the
   checkpoint to resume from. */
static int run_readout_only(const snn_spec *sp, const run_args *a, const char *cmdline,
                            snn_ckpt *ck)
{
    snn_err err;
    snn_err_clear(&err);
    snn_dataset *split[2] = {NULL, NULL};
    file_features ff;
    memset(&ff, 0, sizeof ff);
    snn_h5 *h = NULL;
    const snn_readout_spec *ro = &sp->readout;
    int rc;
    if (ro->from_file) {
        rc = load_file_features(ro, &ff, &err);
    } else {
        rc = snn_idx_load_dir(sp->data.directory, "train", ro->train_samples, &split[0], &err);
        if (!rc)
            rc = snn_idx_load_dir(sp->data.directory, "t10k", ro->test_samples, &split[1],
                                  &err);
    }
    unsigned char *blob = NULL;
    size_t blen = 0;
    if (!rc && ck) {
        if (!(rc = snn_checkpoint_restore(ck, sp, NULL, &h, &err)))
            rc = snn_ckpt_get_blob(ck, "readout/blob", &blob, &blen, &err);
    } else if (!rc && !(rc = snn_h5_create(&h, sp->output, sp->compression, &err))) {
        rc = write_meta(h, NULL, sp, cmdline, &err);
    }
    snn_readout_run_result res;
    if (!rc) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        epoch_progress ep = {a->quiet, now_s()};
        readout_ckpt rk = {.sp = sp, .h = h};
        snn_readout_run_opts o = {.epoch = show_epoch, .ud = &ep, .stop = &g_stop,
                                  .checkpoint = readout_ckpt_write, .ckpt_ud = &rk,
                                  .every = sp->ckpt_every_epochs, .resume = blob,
                                  .resume_len = blen};
        snn_readout_inputs in = {.split = {split[0], split[1]}};
        for (int q = 0; q < 2; q++) {
            snn_feature_set fs = {ff.counts[q], ff.labels[q], ff.n[q], ff.dim[q]};
            *(q ? &in.test : &in.train) = fs;
        }
        double t0 = now_s();
        rc = snn_readout_run(sp, &in, h, &o, &res, &err);
        if (!rc && ro->from_file &&
            !(rc = snn_h5_attr_str(h, "/readout", "features_file", ro->file, &err)) &&
            !(rc = snn_h5_attr_str(h, "/readout", "train_phase", ro->train_name, &err)))
            rc = snn_h5_attr_str(h, "/readout", "test_phase", ro->test_name, &err);
        char ts[64];
        iso_time(ts, sizeof ts);
        if (!rc && !(rc = snn_h5_attr_str(h, "/", "end_time", ts, &err)))
            rc = snn_h5_attr_double(h, "/", "wall_s", now_s() - t0, &err);
    }
    if (!rc) {
        rc = snn_h5_close(h, 1, &err);
        h = NULL;
    }
    if (!rc && !a->quiet) {
        print_readout(stdout, sp, &res);
        printf("wrote %s\n", sp->output);
    }
    if (h)
        snn_h5_close(h, 0, NULL);
    free(blob);
    snn_dataset_free(split[0]);
    snn_dataset_free(split[1]);
    file_features_free(&ff);
    int code = 0;
    if (rc) {
        code = fail(&err);
        if (rc == SNN_EINTR)
            fprintf(stderr, "snn: checkpoint written to %s: finish with `snn run --resume %s`\n",
                    sp->checkpoint, sp->checkpoint);
        fprintf(stderr, "snn: no output written to %s\n", sp->output);
    } else if (ck || sp->ckpt_every_epochs) {
        remove(sp->checkpoint);
    }
    return code;
}

/* Simulate to the end, checkpointing every sp->ckpt_every_steps steps and
   when a signal stops the run. */
static int simulate(snn_net *net, const snn_spec *sp, snn_rec *rec, snn_h5 *h,
                    const snn_run_opts *opts, int quiet, snn_err *err)
{
    size_t every = sp->ckpt_every_steps;
    while (net->step < net->n_steps) {
        size_t n = net->n_steps - net->step;
        if (every && every - net->step % every < n)
            n = every - net->step % every;
        int rc = snn_sched_run(net, n, rec, opts, err);
        bool stop = rc == SNN_EINTR;
        if (rc && !stop)
            return rc;
        if (stop && sp->integrator == SNN_INTEGRATOR_EVENT)
            SNN_FAIL(err, SNN_EINTR, "interrupted at %.3f ms (the event integrator takes no "
                     "checkpoints)", (double)net->step * sp->dt_ms);
        if (stop || (every && net->step < net->n_steps && net->step % every == 0)) {
            snn_err e2;
            int rc2 = snn_checkpoint_write(sp->checkpoint, sp, net, rec, h, "simulate", NULL,
                                           NULL, &e2);
            if (rc2) {
                *err = e2;
                return rc2;
            }
            if (stop) {
                if (!quiet)
                    fprintf(stderr, "\n");
                SNN_FAIL(err, SNN_EINTR, "interrupted at %.3f ms; checkpoint written to %s: "
                         "finish with `snn run --resume %s`", (double)net->step * sp->dt_ms,
                         sp->checkpoint, sp->checkpoint);
            }
        }
    }
    return SNN_OK;
}

static int do_run(const run_args *a, const char *cmdline)
{
    snn_err err;
    snn_err_clear(&err);
    char *keep[3] = {NULL, NULL, NULL};
    char buf_o[2048], buf_t[64], buf_s[64];
    if (a->output) {
        if (strchr(a->output, '"')) {
            fprintf(stderr, "snn: error: output path must not contain '\"'\n");
            return 2;
        }
        snprintf(buf_o, sizeof buf_o, "output.path=\"%s\"", a->output);
        keep[0] = buf_o;
    }
    if (a->threads > 0) {
        snprintf(buf_t, sizeof buf_t, "simulation.threads=%d", a->threads);
        keep[1] = buf_t;
    }
    if (a->seed[0]) {
        snprintf(buf_s, sizeof buf_s, "simulation.seed=%s", a->seed);
        keep[2] = buf_s;
    }
    const char **ov;
    size_t nov;
    if (build_overrides(a, &ov, &nov, keep, 3)) {
        fprintf(stderr, "snn: error: out of memory\n");
        return 1;
    }
    snn_spec *sp = NULL;
    snn_ckpt *ck = NULL;
    char *stage = NULL;
    int rc = a->resume ? snn_checkpoint_open(a->resume, &ck, &sp, &stage, ov, nov, &err)
                       : snn_cfg_load(a->cfg, ov, nov, &sp, &err);
    free(ov);
    if (rc)
        return fail(&err);
    /* The stage a checkpoint was taken in must be one this run has. */
    bool hybrid = sp->n_phases && sp->readout.on;
    if (ck && !(strcmp(stage, "simulate") == 0 ? sp->n_phases == 0
                : strcmp(stage, "phases") == 0  ? sp->n_phases > 0
                : strcmp(stage, "readout") == 0 ? hybrid || (sp->n_pops == 0 && sp->readout.on)
                                                : false)) {
        fprintf(stderr, "snn: error: %s: checkpoint of stage '%s', which this run does not "
                        "have\n", a->resume, stage);
        snn_ckpt_close(ck, 0, NULL);
        free(stage);
        snn_spec_free(sp);
        return 2;
    }
    snn_ckpt *ck_phases = ck && strcmp(stage, "phases") == 0 ? ck : NULL;
    snn_ckpt *ck_readout = ck && strcmp(stage, "readout") == 0 ? ck : NULL;

    /* An explicit thread count (--threads, simulation.threads) also bounds
       every OpenMP region that uses the default team: the readout, GHL's
       updates, weight normalisation. */
    if (sp->threads > 0)
        omp_set_num_threads(sp->threads);
    if (sp->n_pops == 0 && sp->readout.on && (sp->readout.pixels || sp->readout.from_file)) {
        rc = run_readout_only(sp, a, cmdline, ck);
        snn_ckpt_close(ck, 0, NULL);
        free(stage);
        snn_spec_free(sp);
        return rc;
    }
    int tty = isatty(STDERR_FILENO) && !a->quiet;
    snn_net *net = NULL;
    rc = snn_net_build(&net, sp, 0, &err);
    if (rc) {
        snn_spec_free(sp);
        return fail(&err);
    }
    if (!a->quiet)
        fprintf(stderr, "snn: built %zu populations, %zu synapses in %.2f s (%d thread%s)\n",
                net->n_pops, snn_net_synapses(net), net->build_s, run_threads(net),
                run_threads(net) == 1 ? "" : "s");

    snn_h5 *h = NULL;
    snn_rec *rec = NULL;
    snn_protocol_result pres;
    snn_readout_run_result rres;
    memset(&pres, 0, sizeof pres);
    if (ck) {
        rc = snn_checkpoint_restore(ck, sp, net, &h, &err);
        if (!rc && !a->quiet)
            fprintf(stderr, "snn: resuming %s from %s at %.3f ms\n", sp->output, a->resume,
                    (double)net->step * sp->dt_ms);
    } else if (!(rc = snn_h5_create(&h, sp->output, sp->compression, &err))) {
        rc = write_meta(h, net, sp, cmdline, &err);
    }
    if (rc || (rc = snn_rec_open(&rec, net, h, &err)))
        goto done;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    progress pg = {tty, a->quiet, now_s(), sp->dt_ms, 0};
    snn_run_opts opts = {.progress = show_progress, .ud = &pg,
                         .progress_every = net->n_steps / 200 + 1, .stop = &g_stop};
    double t0 = now_s();
    if (ck_readout) /* the phases are done: their features are in the checkpoint */
        rc = pres_ckpt_load(ck_readout, sp, &pres, &err);
    else if (sp->n_phases)
        rc = run_phases(net, sp, rec, h, a->quiet, tty, ck_phases, &pres, &err);
    else
        rc = simulate(net, sp, rec, h, &opts, a->quiet, &err);
    double sim_s = now_s() - t0;
    if (!rc && sp->readout.on)
        rc = readout_on_features(sp, &pres, net, rec, h, ck_readout, a, &rres, &err);
    if (rc)
        goto done;
    if ((rc = snn_rec_flush(rec, &err)))
        goto done;
    char ts[64];
    iso_time(ts, sizeof ts);
    if ((rc = snn_h5_attr_str(h, "/", "end_time", ts, &err)) ||
        (rc = snn_h5_attr_double(h, "/", "wall_s", sim_s, &err)) ||
        (rc = snn_h5_attr_double(h, "/", "build_s", net->build_s, &err)) ||
        (rc = snn_h5_attr_u64(h, "/", "steps", net->step, &err)) ||
        (rc = snn_h5_attr_double(h, "/", "duration_ms", (double)net->step * sp->dt_ms, &err)) ||
        (rc = snn_h5_attr_u64(h, "/", "synaptic_events", snn_net_events(net), &err)))
        goto done;
    for (size_t i = 0; i < net->n_pops; i++) {
        char g[SNN_NAME_MAX + 16];
        snprintf(g, sizeof g, "/populations/%s", net->pops[i].name);
        if ((rc = snn_h5_attr_u64(h, g, "spike_count", net->spike_count[i], &err)))
            goto done;
    }
    snn_rec_free(rec);
    rec = NULL;
    rc = snn_h5_close(h, 1, &err);
    h = NULL;
    if (rc)
        goto done;
    if (!a->quiet) {
        print_summary(stdout, net, sim_s);
        if (sp->n_phases)
            print_phases(stdout, sp, &pres);
        if (sp->readout.on)
            print_readout(stdout, sp, &rres);
        printf("wrote %s\n", sp->output);
    }
done:
    snn_protocol_result_free(&pres);
    snn_rec_free(rec);
    if (h) {
        snn_err e2;
        snn_h5_close(h, 0, &e2);
    }
    int code = 0;
    if (rc) {
        code = fail(&err);
        /* (the last checkpoint taken is the one to resume from) */
        if (rc == SNN_EINTR && g_ckpt_taken && sp->n_phases)
            fprintf(stderr, "snn: checkpoint written to %s: finish with `snn run --resume %s`\n",
                    sp->checkpoint, sp->checkpoint);
        fprintf(stderr, "snn: no output written to %s\n", sp->output);
    } else if (ck || sp->ckpt_every_steps || g_ckpt_taken) {
        /* finished: the checkpoint has served */
        remove(sp->checkpoint);
    }
    snn_ckpt_close(ck, 0, NULL);
    free(stage);
    snn_net_free(net);
    snn_spec_free(sp);
    return code;
}

static int parse_int(const char *s, const char *what, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) {
        fprintf(stderr, "snn: error: %s must be an integer in [%ld, %ld], got '%s'\n", what, lo,
                hi, s);
        return -1;
    }
    *v = x;
    return 0;
}

static int cmd_run(int argc, char **argv, const char *cmdline)
{
    static const struct option lo[] = {{"output", required_argument, 0, 'o'},
                                       {"set", required_argument, 0, 's'},
                                       {"threads", required_argument, 0, 't'},
                                       {"seed", required_argument, 0, 'S'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"resume", required_argument, 0, 'R'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    run_args a;
    memset(&a, 0, sizeof a);
    a.sets = calloc((size_t)argc, sizeof *a.sets);
    if (!a.sets)
        return 1;
    int c, rc = 0;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:t:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            a.output = optarg;
            break;
        case 's':
            a.sets[a.n_sets++] = optarg;
            break;
        case 't':
            if (parse_int(optarg, "--threads", 1, 1024, &v))
                rc = 2;
            a.threads = (int)v;
            break;
        case 'S':
            if (parse_int(optarg, "--seed", 0, 2147483647L, &v))
                rc = 2;
            snprintf(a.seed, sizeof a.seed, "%ld", v);
            break;
        case 'q':
            a.quiet = 1;
            break;
        case 'R':
            a.resume = optarg;
            break;
        case 'h':
            fputs(usage_run, stdout);
            free(a.sets);
            return 0;
        default:
            rc = 2;
        }
        if (rc)
            break;
    }
    if (!rc && a.resume && (optind != argc || a.output || a.seed[0])) {
        fprintf(stderr, "snn: error: --resume takes no parameter file, -o or --seed: the "
                        "run is rebuilt from the checkpoint\n%s", usage_run);
        rc = 2;
    } else if (!rc && !a.resume && optind != argc - 1) {
        fprintf(stderr, "snn: error: run takes exactly one parameter file\n%s", usage_run);
        rc = 2;
    }
    if (!rc) {
        a.cfg = a.resume ? NULL : argv[optind];
        rc = do_run(&a, cmdline);
    }
    free(a.sets);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage_info, stdout);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "snn: error: info takes one file\n%s", usage_info);
        return 2;
    }
    snn_err err;
    snn_err_clear(&err);
    if (snn_h5_info(argv[1], stdout, &err))
        return fail(&err);
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    static const struct option lo[] = {{"set", required_argument, 0, 's'},
                                       {"threads", required_argument, 0, 't'},
                                       {"duration-ms", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char **sets = calloc((size_t)argc + 2, sizeof *sets);
    if (!sets)
        return 1;
    size_t n_sets = 0;
    int c, threads = 0, rc = 0;
    long v;
    char dur[64] = "";
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:t:d:h", lo, NULL)) != -1) {
        if (c == 's')
            sets[n_sets++] = optarg;
        else if (c == 't') {
            if (parse_int(optarg, "--threads", 1, 1024, &v))
                rc = 2;
            threads = (int)v;
        } else if (c == 'd') {
            char *end;
            double d = strtod(optarg, &end);
            if (end == optarg || *end || !(d > 0)) {
                fprintf(stderr, "snn: error: --duration-ms must be a positive number\n");
                rc = 2;
            }
            snprintf(dur, sizeof dur, "simulation.duration_ms=%.17g", d);
        } else if (c == 'h') {
            fputs(usage_bench, stdout);
            free(sets);
            return 0;
        } else
            rc = 2;
        if (rc)
            break;
    }
    if (dur[0])
        sets[n_sets++] = dur;
    static const char *const defaults[] = {"experiments/cuba.cfg", "experiments/brunel.cfg"};
    const char *const *files = (const char *const *)argv + optind;
    size_t n_files = (size_t)(argc - optind);
    if (n_files == 0) {
        files = defaults;
        n_files = 2;
    }
    for (size_t f = 0; !rc && f < n_files; f++) {
        snn_err err;
        snn_err_clear(&err);
        snn_spec *sp = NULL;
        snn_net *net = NULL;
        if (snn_cfg_load(files[f], sets, n_sets, &sp, &err) ||
            snn_net_build(&net, sp, threads, &err)) {
            snn_spec_free(sp);
            rc = fail(&err);
            break;
        }
        size_t neurons = 0;
        for (size_t i = 0; i < net->n_pops; i++)
            if (!net->pops[i].type->is_source)
                neurons += net->pops[i].n;
        snn_run_opts opts = {.stop = &g_stop};
        double t0 = now_s();
        int r = snn_sched_run(net, net->n_steps, NULL, &opts, &err);
        double sim_s = now_s() - t0;
        if (r) {
            rc = fail(&err);
        } else {
            double dur_s = (double)net->step * net->dt_ms / 1000.0;
            uint64_t spikes = 0, rec_ev = 0;
            for (size_t i = 0; i < net->n_pops; i++)
                if (!net->pops[i].type->is_source)
                    spikes += net->spike_count[i];
            for (size_t j = 0; j < net->n_projs; j++)
                if (!net->projs[j].pre->type->is_source)
                    for (size_t t = 0; t < net->projs[j].n_parts; t++)
                        rec_ev += net->projs[j].parts[t].events;
            uint64_t ev = snn_net_events(net);
            printf("%s: %zu neurons, %zu synapses, %.0f ms at dt %g ms, %d thread%s\n", files[f],
                   neurons, snn_net_synapses(net), dur_s * 1000, net->dt_ms, run_threads(net),
                   run_threads(net) == 1 ? "" : "s");
            printf("  build_s: %.3f\n  simulate_s: %.3f\n  realtime_factor: %.3f\n",
                   net->build_s, sim_s, dur_s / sim_s);
            printf("  spikes: %llu\n  mean_rate_hz: %.3f\n", (unsigned long long)spikes,
                   neurons ? (double)spikes / (double)neurons / dur_s : 0.0);
            printf("  events: %llu\n  events_per_s: %.4g\n", (unsigned long long)ev,
                   (double)ev / sim_s);
            printf("  recurrent_events: %llu\n  recurrent_events_per_s: %.4g\n",
                   (unsigned long long)rec_ev, (double)rec_ev / sim_s);
            fflush(stdout);
        }
        snn_net_free(net);
        snn_spec_free(sp);
    }
    free(sets);
    return rc;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    char cmdline[4096];
    size_t m = 0;
    cmdline[0] = '\0';
    for (int i = 0; i < argc && m < sizeof cmdline - 1; i++)
        m += (size_t)snprintf(cmdline + m, sizeof cmdline - m, "%s%s", i ? " " : "", argv[i]);

    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
        return cmd_help(1, argv);
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("snn %s\n", snn_version);
        return 0;
    }
    if (!strcmp(cmd, "help"))
        return cmd_help(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1, cmdline);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot"))
        return cmd_plot(argc - 1, argv + 1);
    fprintf(stderr, "snn: error: unknown command '%s'\n%s", cmd, usage_main);
    return 2;
}
