/*
 * sim/protocol.c: phases over a dataset, feature recording and the voting
 * evaluation.  Feature buffers are allocated per phase before its first
 * sample; the step loop itself allocates nothing.
 */
#include "protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_permutation.h>
#include <gsl/gsl_randist.h>

#include "../rules/vote.h"
#include "present.h"
#include "rng.h"

#define N_CLASSES 10

typedef struct phase_out {
    size_t n;                  /* samples */
    uint32_t **counts;         /* per feature population: n * pop size */
    uint64_t *labels, *indices;
} phase_out;

static void phase_out_free(phase_out *o, size_t n_features)
{
    for (size_t q = 0; o->counts && q < n_features; q++)
        free(o->counts[q]);
    free(o->counts);
    free(o->labels);
    free(o->indices);
    memset(o, 0, sizeof *o);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sample order of a phase: identity or a permutation from its seed. */
static int order(const snn_phase_spec *ph, size_t n_split, size_t *idx, snn_err *err)
{
    if (ph->shuffle_seed == 0) {
        for (size_t i = 0; i < n_split; i++)
            idx[i] = i;
        return SNN_OK;
    }
    gsl_permutation *p = gsl_permutation_alloc(n_split);
    gsl_rng *r = snn_rng_alloc(ph->shuffle_seed, snn_rng_owner(SNN_RNG_USER, 0), 0);
    if (!p || !r) {
        gsl_permutation_free(p);
        gsl_rng_free(r);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory shuffling phase '%s'", ph->name);
    }
    gsl_permutation_init(p);
    gsl_ran_shuffle(r, p->data, n_split, sizeof(size_t));
    memcpy(idx, p->data, n_split * sizeof *idx);
    gsl_permutation_free(p);
    gsl_rng_free(r);
    return SNN_OK;
}

static int write_phase(snn_h5 *h5, const snn_net *net, const snn_phase_spec *ph,
                       const phase_out *o, snn_err *err)
{
    char path[256];
    int rc;
    for (size_t q = 0; q < ph->n_features; q++) {
        const snn_pop *p = &net->pops[ph->features[q]];
        snprintf(path, sizeof path, "/features/%s/%s", ph->name, p->name);
        if ((rc = snn_h5_write_u32_2d(h5, path, o->counts[q], o->n, p->n, err)))
            return rc;
    }
    snprintf(path, sizeof path, "/features/%s/labels", ph->name);
    if ((rc = snn_h5_write_u64(h5, path, o->labels, o->n, err)))
        return rc;
    snprintf(path, sizeof path, "/features/%s/indices", ph->name);
    return snn_h5_write_u64(h5, path, o->indices, o->n, err);
}

static int evaluate(snn_net *net, const snn_spec *sp, phase_out *outs, snn_h5 *h5,
                    snn_protocol_result *res, snn_err *err)
{
    const snn_eval_spec *ev = &sp->eval;
    const snn_phase_spec *pa = &sp->phases[ev->assign_phase], *pt = &sp->phases[ev->test_phase];
    size_t qa = 0, qt = 0;
    while (qa < pa->n_features && pa->features[qa] != ev->pop)
        qa++;
    while (qt < pt->n_features && pt->features[qt] != ev->pop)
        qt++;
    if (qa == pa->n_features || qt == pt->n_features)
        SNN_FAIL(err, SNN_ECFG, "evaluate: population '%s' must be a feature of phases '%s' "
                 "and '%s'", net->pops[ev->pop].name, pa->name, pt->name);
    size_t n = net->pops[ev->pop].n;
    const phase_out *oa = &outs[ev->assign_phase], *ot = &outs[ev->test_phase];
    double *ca = malloc((oa->n * n + 1) * sizeof *ca), *ct = malloc((ot->n * n + 1) * sizeof *ct);
    uint8_t *la = malloc(oa->n + 1), *lt = malloc(ot->n + 1);
    int32_t *assign = malloc((n + 1) * sizeof *assign), *pred = malloc((ot->n + 1) * sizeof *pred);
    int rc = SNN_OK;
    if (!ca || !ct || !la || !lt || !assign || !pred) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the evaluation");
        goto done;
    }
    for (size_t m = 0; m < oa->n * n; m++)
        ca[m] = oa->counts[qa][m];
    for (size_t m = 0; m < ot->n * n; m++)
        ct[m] = ot->counts[qt][m];
    for (size_t s = 0; s < oa->n; s++)
        la[s] = (uint8_t)oa->labels[s];
    for (size_t s = 0; s < ot->n; s++)
        lt[s] = (uint8_t)ot->labels[s];
    if ((rc = snn_vote_assign(ca, la, oa->n, n, N_CLASSES, assign, NULL, err)) ||
        (rc = snn_vote_predict(ct, ot->n, n, assign, N_CLASSES, pred, err)))
        goto done;
    res->accuracy = snn_vote_accuracy(pred, lt, ot->n, N_CLASSES, res->confusion);
    res->evaluated = true;
    if (h5) {
        uint64_t *tmp = malloc((n > ot->n ? n : ot->n) * sizeof *tmp + 1);
        if (!tmp) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the evaluation");
            goto done;
        }
        uint32_t conf[N_CLASSES * N_CLASSES];
        for (size_t m = 0; m < N_CLASSES * N_CLASSES; m++)
            conf[m] = (uint32_t)res->confusion[m];
        /* -1 (never fired / no prediction) is stored as 2^64 - 1. */
        for (size_t i = 0; i < n; i++)
            tmp[i] = (uint64_t)(int64_t)assign[i];
        if (!(rc = snn_h5_write_u64(h5, "/results/vote/assignments", tmp, n, err))) {
            for (size_t s = 0; s < ot->n; s++)
                tmp[s] = (uint64_t)(int64_t)pred[s];
            rc = snn_h5_write_u64(h5, "/results/vote/predictions", tmp, ot->n, err);
        }
        free(tmp);
        if (!rc)
            rc = snn_h5_write_u32_2d(h5, "/results/vote/confusion", conf, N_CLASSES, N_CLASSES,
                                     err);
        if (!rc)
            rc = snn_h5_attr_double(h5, "/results/vote", "accuracy", res->accuracy, err);
        if (!rc)
            rc = snn_h5_attr_u64(h5, "/results/vote", "n_test", ot->n, err);
        if (!rc)
            rc = snn_h5_attr_str(h5, "/results/vote", "population", net->pops[ev->pop].name,
                                 err);
    }
done:
    free(ca);
    free(ct);
    free(la);
    free(lt);
    free(assign);
    free(pred);
    return rc;
}

int snn_protocol_run(snn_net *net, const snn_dataset *const split[2], snn_rec *rec, snn_h5 *h5,
                     const snn_protocol_opts *opts, snn_protocol_result *res, snn_err *err)
{
    const snn_spec *sp = net->spec;
    memset(res, 0, sizeof *res);
    phase_out *outs = calloc(sp->n_phases + 1, sizeof *outs);
    if (!outs)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory");
    int rc = SNN_OK;
    for (size_t f = 0; f < sp->n_phases && !rc; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        const snn_dataset *d = split[ph->split];
        if (!d) {
            rc = snn_err_set(err, SNN_EINTERNAL, "phase '%s': its split was not loaded", ph->name);
            break;
        }
        if (ph->samples > d->n) {
            rc = snn_err_set(err, SNN_ECFG,
                             "%s:%d: phase '%s' asks for %zu samples but the %s set has %zu",
                             ph->where.file, ph->where.line, ph->name, ph->samples,
                             ph->split ? "test" : "training", d->n);
            break;
        }
        if (d->rows * d->cols != net->pops[sp->stim.input].n) {
            rc = snn_err_set(err, SNN_ECFG, "stimulus input '%s' has %zu neurons but the images "
                             "have %zu x %zu pixels", net->pops[sp->stim.input].name,
                             net->pops[sp->stim.input].n, d->rows, d->cols);
            break;
        }
        phase_out *o = &outs[f];
        o->n = ph->samples;
        size_t *idx = malloc((d->n + 1) * sizeof *idx);
        o->labels = malloc((o->n + 1) * sizeof *o->labels);
        o->indices = malloc((o->n + 1) * sizeof *o->indices);
        o->counts = calloc(ph->n_features + 1, sizeof *o->counts);
        uint32_t **row = calloc(ph->n_features + 1, sizeof *row);
        bool ok = idx && o->labels && o->indices && o->counts && row;
        for (size_t q = 0; ok && q < ph->n_features; q++)
            ok = (o->counts[q] = malloc(o->n * net->pops[ph->features[q]].n *
                                        sizeof(uint32_t) + 1)) != NULL;
        if (!ok) {
            free(idx);
            free(row);
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", ph->name);
            break;
        }
        if ((rc = order(ph, d->n, idx, err))) {
            free(idx);
            free(row);
            break;
        }
        snn_present pr = {
            .input = sp->stim.input, .max_rate_hz = sp->stim.max_rate_hz,
            .intensity = sp->stim.intensity, .present_ms = sp->stim.present_ms,
            .rest_ms = sp->stim.rest_ms, .watch = sp->stim.watch,
            .min_spikes = sp->stim.min_spikes, .intensity_step = sp->stim.intensity_step,
            .max_boosts = sp->stim.max_boosts, .n_count = ph->n_features,
            .count = ph->features, .rec = rec, .stop = opts ? opts->stop : NULL};
        snn_net_set_plastic(net, ph->plastic);
        double t0 = now_s();
        for (size_t s = 0; s < o->n && !rc; s++) {
            size_t i = idx[s];
            for (size_t q = 0; q < ph->n_features; q++)
                row[q] = o->counts[q] + s * net->pops[ph->features[q]].n;
            unsigned b = 0;
            rc = snn_present_sample(net, &pr, d->images + i * d->rows * d->cols, row, &b, err);
            if (rc)
                break;
            o->labels[s] = d->labels[i];
            o->indices[s] = i;
            if (f < 16)
                res->boosts[f] += b;
            if (ph->plastic)
                for (size_t j = 0; j < net->n_projs; j++)
                    if (net->projs[j].spec->normalize > 0)
                        snn_net_normalize(net, &net->projs[j], net->projs[j].spec->normalize);
            if (opts && opts->progress)
                opts->progress(opts->ud, f, s + 1, o->n);
        }
        double el = now_s() - t0;
        if (f < 16)
            res->samples_per_s[f] = el > 0 ? (double)o->n / el : 0;
        free(idx);
        free(row);
        if (!rc && h5)
            rc = write_phase(h5, net, ph, o, err);
    }
    snn_net_set_plastic(net, true);
    if (!rc && sp->eval.vote)
        rc = evaluate(net, sp, outs, h5, res, err);
    for (size_t f = 0; f < sp->n_phases; f++)
        phase_out_free(&outs[f], sp->phases[f].n_features);
    free(outs);
    return rc;
}
