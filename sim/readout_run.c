/*
 * sim/readout_run.c: the readout stage of a run (sim/readout_run.h).
 */
#include "readout_run.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../io/perturb.h"
#include "../rules/readout.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Features as doubles (n × dim). */
static double *from_counts(const snn_feature_set *f)
{
    size_t m = f->n * f->dim;
    double *x = malloc((m > 0 ? m : 1) * sizeof *x);
    if (x)
        for (size_t k = 0; k < f->n * f->dim; k++)
            x[k] = (double)f->counts[k];
    return x;
}

/* The first n images of d as pixel / 255, perturbed by p (NULL: none). */
static double *from_pixels(const snn_dataset *d, size_t n, const snn_perturb *p, uint64_t seed)
{
    size_t px = d->rows * d->cols;
    size_t m = n * px;
    double *x = malloc((m > 0 ? m : 1) * sizeof *x);
    uint8_t *img = malloc(px ? px : 1);
    if (x && img)
        for (size_t i = 0; i < n; i++) {
            memcpy(img, d->images + i * px, px);
            if (p)
                snn_perturb_image(p, seed, i, img, d->rows, d->cols);
            for (size_t k = 0; k < px; k++)
                x[i * px + k] = img[k] / 255.0;
        }
    free(img);
    if (!img) {
        free(x);
        return NULL;
    }
    return x;
}

typedef struct epoch_ctx {
    const snn_readout_run_opts *opts;
    const snn_readout *r;
    unsigned total;
} epoch_ctx;

static int save_blob(const epoch_ctx *e, snn_err *err)
{
    size_t len = snn_readout_blob_size(e->r);
    void *buf = malloc(len ? len : 1);
    if (!buf)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the readout checkpoint");
    int rc = snn_readout_save(e->r, buf, len, err);
    if (!rc)
        rc = e->opts->checkpoint(e->opts->ckpt_ud, buf, len, err);
    free(buf);
    return rc;
}

static int on_epoch(void *ud, const snn_readout_epoch *st, snn_err *err)
{
    epoch_ctx *e = ud;
    const snn_readout_run_opts *o = e->opts;
    unsigned done = st->epoch + 1;
    if (o && o->epoch)
        o->epoch(o->ud, done, e->total, st->loss, st->train_accuracy, st->test_accuracy);
    /* a stop after the last epoch lets the run finish: only testing is left */
    bool stop = o && o->stop && *o->stop && done < e->total;
    if (o && o->checkpoint && done < e->total && (stop || (o->every && done % o->every == 0))) {
        int rc = save_blob(e, err);
        if (rc)
            return rc;
    }
    if (stop)
        SNN_FAIL(err, SNN_EINTR, "interrupted after readout epoch %u of %u", done, e->total);
    return SNN_OK;
}

static size_t n_classes_of(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    unsigned m = 1;
    for (size_t i = 0; i < na; i++)
        m = a[i] > m ? a[i] : m;
    for (size_t i = 0; i < nb; i++)
        m = b[i] > m ? b[i] : m;
    return (size_t)m + 1;
}

static int write_robust(snn_h5 *h5, const snn_spec *sp, double clean, const double *acc,
                        snn_err *err)
{
    double v[SNN_MAX_PERTURB + 1];
    char names[SNN_MAX_PERTURB * 32 + 8] = "none";
    v[0] = clean;
    for (size_t k = 0; k < sp->robust.n; k++) {
        char one[32];
        snn_perturb_format(&sp->robust.p[k], one, sizeof one);
        strcat(names, ",");
        strcat(names, one);
        v[k + 1] = acc[k];
    }
    int rc = snn_h5_write_f64(h5, "/results/robustness/readout/accuracy", v, sp->robust.n + 1,
                              NULL, err);
    if (!rc)
        rc = snn_h5_attr_str(h5, "/results/robustness/readout", "perturbations", names, err);
    if (!rc)
        rc = snn_h5_attr_u64(h5, "/results/robustness/readout", "seed", sp->robust.seed, err);
    return rc;
}

int snn_readout_run(const snn_spec *sp, const snn_readout_inputs *in, snn_h5 *h5,
                    const snn_readout_run_opts *opts, snn_readout_run_result *res,
                    snn_err *err)
{
    const snn_readout_spec *ro = &sp->readout;
    memset(res, 0, sizeof *res);
    size_t ntr, nte, dim;
    const uint8_t *ytr, *yte;
    double *Xtr = NULL, *Xte = NULL, *Xp = NULL;
    snn_readout *r = NULL;
    uint64_t *conf = NULL;
    int rc = SNN_OK;
    if (ro->pixels) {
        const snn_dataset *a = in->split[0], *b = in->split[1];
        if (!a || !b)
            SNN_FAIL(err, SNN_EINTERNAL, "readout: pixel input without the dataset");
        ntr = ro->train_samples ? ro->train_samples : a->n;
        nte = ro->test_samples ? ro->test_samples : b->n;
        if (ntr > a->n || nte > b->n)
            SNN_FAIL(err, SNN_ECFG, "readout asks for %zu training and %zu test images; the "
                     "dataset has %zu and %zu", ntr, nte, a->n, b->n);
        dim = a->rows * a->cols;
        ytr = a->labels;
        yte = b->labels;
        Xtr = from_pixels(a, ntr, NULL, 0);
        Xte = from_pixels(b, nte, NULL, 0);
    } else {
        ntr = in->train.n;
        nte = in->test.n;
        dim = in->train.dim;
        if (in->test.dim != dim)
            SNN_FAIL(err, SNN_EINTERNAL, "readout: train and test features differ in width");
        ytr = in->train.labels;
        yte = in->test.labels;
        Xtr = from_counts(&in->train);
        Xte = from_counts(&in->test);
    }
    if (!Xtr || !Xte) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the readout's input");
        goto out;
    }
    if (ntr == 0) {
        rc = snn_err_set(err, SNN_ECFG, "readout: no training samples");
        goto out;
    }
    size_t C = n_classes_of(ytr, ntr, yte, nte);
    if ((rc = snn_readout_create(&r, &ro->cfg, dim, C, err)))
        goto out;
    epoch_ctx ec = {.opts = opts, .r = r, .total = ro->cfg.epochs};
    if (opts && opts->resume && (rc = snn_readout_load(r, opts->resume, opts->resume_len, err)))
        goto out;
    double t0 = now_s();
    if ((rc = snn_readout_train(r, Xtr, ytr, ntr, Xte, yte, nte, on_epoch, &ec, err)))
        goto out;
    res->train_s = now_s() - t0;
    res->samples_per_s = res->train_s > 0 ? (double)ntr * ro->cfg.epochs / res->train_s : 0;
    conf = calloc(C * C, sizeof *conf);
    if (!conf) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = snn_readout_evaluate(r, Xte, yte, nte, &res->accuracy, conf, NULL, err)))
        goto out;
    for (size_t t = 0; t < C && t < 10; t++)
        for (size_t q = 0; q < C && q < 10; q++)
            res->confusion[t * 10 + q] = conf[t * C + q];
    res->n_train = ntr;
    res->n_test = nte;
    res->n_in = dim;
    if (h5) {
        if ((rc = snn_readout_write_h5(r, h5, err)) ||
            (rc = snn_h5_attr_str(h5, "/readout", "input",
                                  ro->pixels ? "pixels" : ro->from_file ? "file" : "features",
                                  err)) ||
            (rc = snn_h5_attr_u64(h5, "/readout", "n_train", ntr, err)) ||
            (rc = snn_h5_attr_u64(h5, "/readout", "n_test", nte, err)) ||
            (rc = snn_h5_attr_u64(h5, "/readout", "n_in", dim, err)) ||
            (rc = snn_h5_attr_double(h5, "/readout", "train_s", res->train_s, err)) ||
            (rc = snn_h5_attr_double(h5, "/readout", "samples_per_s", res->samples_per_s,
                                     err)))
            goto out;
    }
    /* Robustness: evaluated after the clean results are written (evaluate
       keeps its last result for the file). */
    for (size_t k = 0; k < sp->robust.n; k++) {
        free(Xp);
        Xp = NULL;
        const uint8_t *yp = yte;
        size_t np = nte;
        if (ro->pixels) {
            Xp = from_pixels(in->split[1], nte, &sp->robust.p[k], sp->robust.seed);
        } else {
            const snn_feature_set *f = &in->robust[k];
            if (f->dim != dim || !f->counts) {
                rc = snn_err_set(err, SNN_EINTERNAL, "readout: no features for perturbation %zu",
                                 k);
                goto out;
            }
            Xp = from_counts(f);
            yp = f->labels;
            np = f->n;
        }
        if (!Xp) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the perturbed test set");
            goto out;
        }
        if ((rc = snn_readout_evaluate(r, Xp, yp, np, &res->robust[k], NULL, NULL, err)))
            goto out;
    }
    if (h5 && sp->robust.n)
        rc = write_robust(h5, sp, res->accuracy, res->robust, err);
out:
    free(conf);
    free(Xp);
    free(Xtr);
    free(Xte);
    snn_readout_free(r);
    return rc;
}
