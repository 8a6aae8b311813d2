/*
 * io/perturb.c: seeded image perturbations (io/perturb.h).
 */
#include "perturb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../sim/rng.h"

/* Stream owner role for perturbations (beside sim/rng.h's roles). */
#define PERTURB_ROLE 9u

static const char *const kind_name[] = {"none", "gauss", "occlude", "saltpepper"};

int snn_perturb_parse(const char *text, snn_perturb *p, snn_err *err)
{
    static const char forms[] = "gauss:S (0 <= S <= 10), occlude:A (0 <= A <= 1), "
                                "saltpepper:P (0 <= P <= 1) or none";
    p->kind = SNN_PERTURB_NONE;
    p->level = 0.0;
    if (!text)
        SNN_FAIL(err, SNN_ECFG, "no perturbation given; expected %s", forms);
    if (!strcmp(text, "none"))
        return SNN_OK;
    const char *colon = strchr(text, ':');
    size_t klen = colon ? (size_t)(colon - text) : strlen(text);
    int kind = -1;
    for (int k = 1; k < 4; k++)
        if (strlen(kind_name[k]) == klen && !strncmp(text, kind_name[k], klen))
            kind = k;
    if (kind < 0)
        SNN_FAIL(err, SNN_ECFG, "unknown perturbation '%s'; expected %s", text, forms);
    char *end = NULL;
    double v = colon ? strtod(colon + 1, &end) : NAN;
    double hi = kind == SNN_PERTURB_GAUSS ? 10.0 : 1.0;
    if (!colon || end == colon + 1 || *end != '\0' || !(v >= 0.0 && v <= hi))
        SNN_FAIL(err, SNN_ECFG, "bad perturbation level in '%s'; expected %s", text, forms);
    p->kind = (snn_perturb_kind)kind;
    p->level = v;
    return SNN_OK;
}

void snn_perturb_format(const snn_perturb *p, char *buf, size_t len)
{
    if (p->kind == SNN_PERTURB_NONE)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%s:%g", kind_name[p->kind], p->level);
}

static uint8_t clip_round(double v)
{
    v = nearbyint(v);
    return v < 0.0 ? 0 : v > 255.0 ? 255 : (uint8_t)v;
}

void snn_perturb_image(const snn_perturb *p, uint64_t seed, size_t i, uint8_t *img,
                       size_t rows, size_t cols)
{
    if (p->kind == SNN_PERTURB_NONE || rows == 0 || cols == 0)
        return;
    gsl_rng *r = snn_rng_alloc(seed, snn_rng_owner(PERTURB_ROLE, (uint32_t)p->kind),
                               (uint32_t)i);
    if (!r)
        abort(); /* a few kB; nothing sensible is left to do */
    size_t n = rows * cols;
    switch (p->kind) {
    case SNN_PERTURB_GAUSS:
        for (size_t k = 0; k < n; k++)
            img[k] = clip_round(img[k] + 255.0 * p->level * gsl_ran_gaussian_ziggurat(r, 1.0));
        break;
    case SNN_PERTURB_OCCLUDE: {
        size_t side = (size_t)lround(sqrt(p->level * (double)n));
        size_t lim = rows < cols ? rows : cols;
        if (side > lim)
            side = lim;
        /* The position is drawn even for an empty patch, so that every level
           uses the stream alike. */
        size_t r0 = gsl_rng_uniform_int(r, rows - (side ? side : 1) + 1);
        size_t c0 = gsl_rng_uniform_int(r, cols - (side ? side : 1) + 1);
        for (size_t a = 0; a < side; a++)
            memset(img + (r0 + a) * cols + c0, 0, side);
        break;
    }
    case SNN_PERTURB_SALTPEPPER:
        for (size_t k = 0; k < n; k++) {
            double u = gsl_rng_uniform(r);
            if (u < p->level)
                img[k] = u < 0.5 * p->level ? 0 : 255;
        }
        break;
    case SNN_PERTURB_NONE:
        break;
    }
    gsl_rng_free(r);
}

int snn_perturb_dataset(const snn_dataset *in, const snn_perturb *p, uint64_t seed,
                        snn_dataset **out, snn_err *err)
{
    *out = NULL;
    size_t px = in->rows * in->cols;
    snn_dataset *d = calloc(1, sizeof *d);
    if (d) {
        d->images = malloc(in->n * px + 1);
        d->labels = malloc(in->n + 1);
    }
    if (!d || !d->images || !d->labels) {
        snn_dataset_free(d);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for a perturbed copy of %zu images", in->n);
    }
    d->n = in->n;
    d->rows = in->rows;
    d->cols = in->cols;
    memcpy(d->images, in->images, in->n * px);
    memcpy(d->labels, in->labels, in->n);
    for (size_t i = 0; i < in->n; i++)
        snn_perturb_image(p, seed, i, d->images + i * px, in->rows, in->cols);
    *out = d;
    return SNN_OK;
}
