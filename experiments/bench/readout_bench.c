/*
 * experiments/bench/readout_bench.c: training throughput of the
 * surrogate-gradient readout (rules/readout.h) on random data, for
 * comparison with experiments/bench/torch_readout.py (same network, same
 * dtype, same thread count).  Not a test.
 *
 * Shapes: "400-10" (400 features -> 10 outputs) and "784-400-10" (one
 * hidden layer of 400), T = 25 steps, batch 128, z-scored uniform features,
 * current encoding (gain 0.2), spike count decode, fast-sigmoid surrogate,
 * Adam.  One warm-up epoch, then `--epochs` timed epochs; prints one JSON
 * line per (shape, threads):
 *   {"impl": "snn", "shape": "784-400-10", "threads": 2, "samples_per_s": ...}
 *
 * Usage: readout_bench [--threads 1,2] [--samples N] [--epochs E] [--shape S|all]
 *                      [--chunk C] [--sparse D]   (cfg.chunk, cfg.sparse_density;
 *                      default the library's)
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "rules/readout.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(const char *shape, int threads, size_t n, unsigned epochs, unsigned chunk,
               double sparse)
{
    size_t n_in = strcmp(shape, "400-10") == 0 ? 400 : 784, C = 10;
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.steps = 25;
    c.batch = 128;
    c.epochs = epochs + 1;
    c.lr = 1e-3;
    if (chunk)
        c.chunk = chunk;
    if (sparse >= 0)
        c.sparse_density = sparse;
    c.input_gain = 0.2;
    c.norm = SNN_RO_NORM_ZSCORE;
    if (n_in == 784) {
        c.n_hidden = 1;
        c.hidden[0] = 400;
    }
    double *X = malloc(n * n_in * sizeof(double));
    uint8_t *y = malloc(n);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!X || !y || !g) {
        fprintf(stderr, "readout_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * n_in; i++)
        X[i] = gsl_rng_uniform(g);
    for (size_t i = 0; i < n; i++)
        y[i] = (uint8_t)gsl_rng_uniform_int(g, C);
    gsl_rng_free(g);
    omp_set_num_threads(threads);
    snn_readout *r;
    snn_err err;
    if (snn_readout_create(&r, &c, n_in, C, &err) || snn_readout_fit_norm(r, X, n, &err)) {
        fprintf(stderr, "readout_bench: %s\n", err.msg);
        return 1;
    }
    snn_readout_epoch st;
    double t = 0;
    for (unsigned e = 0; e <= epochs; e++) {
        double t0 = now_s();
        if (snn_readout_train_epoch(r, X, y, n, &st, &err)) {
            fprintf(stderr, "readout_bench: %s\n", err.msg);
            return 1;
        }
        if (e > 0) /* epoch 0 is the warm-up */
            t += now_s() - t0;
    }
    printf("{\"impl\": \"snn\", \"shape\": \"%s\", \"threads\": %d, \"samples\": %zu, "
           "\"epochs\": %u, \"samples_per_s\": %.1f, \"loss\": %.6f}\n",
           shape, threads, n, epochs, (double)n * epochs / t, st.loss);
    fflush(stdout);
    snn_readout_free(r);
    free(X);
    free(y);
    return 0;
}

int main(int argc, char **argv)
{
    const char *threads = "1,2", *shape = "all";
    size_t n = 1024;
    unsigned epochs = 1, chunk = 0;
    double sparse = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            threads = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--samples") == 0)
            n = strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--epochs") == 0)
            epochs = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--sparse") == 0)
            sparse = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--chunk") == 0)
            chunk = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--shape") == 0)
            shape = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--samples N] [--epochs E] "
                    "[--shape 400-10|784-400-10|all] [--chunk C] [--sparse D]\n", argv[0]);
            return 2;
        }
    }
    if (n == 0 || epochs == 0) {
        fprintf(stderr, "readout_bench: --samples and --epochs must be >= 1\n");
        return 2;
    }
    const char *shapes[] = {"400-10", "784-400-10"};
    for (int s = 0; s < 2; s++) {
        if (strcmp(shape, "all") != 0 && strcmp(shape, shapes[s]) != 0)
            continue;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", threads);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
            if (run(shapes[s], atoi(tok), n, epochs, chunk, sparse))
                return 1;
    }
    return 0;
}
