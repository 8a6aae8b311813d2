/*
 * sim/connect.c: connectors (all_to_all, one_to_one, pairwise_bernoulli,
 * fixed_indegree, local, local_groups), weight and delay distributions, and
 * the partitioned CSR (or dense) storage of sim/net.h.
 *
 * local: post neuron j = l * per_location + f sees every pixel of image patch
 * l of the pre population (geometry in sim/spec.h, snn_local_spec), as in
 * locally connected networks (Saunders et al. 2019); local_groups connects
 * all to all within consecutive groups, e.g. inhibition that makes only the
 * neurons of one patch compete.  Both are stored as CSR rows.
 *
 * Synapses are drawn per target block from the stream
 * (seed, SNN_RNG_CONN|projection, block): for each target in ascending order,
 * its sources in ascending order, then for each synapse its weight and then
 * its delay.  The result is therefore the same for any thread count.
 */
#include "connect.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "../rules/rule.h"
#include "rng.h"

/* Synapses onto one target block, in generation order. */
typedef struct blk_syn {
    size_t n, cap;
    uint32_t *cnt;   /* synapses per target of the block */
    uint32_t *pre;
    double *w;
    uint16_t *d;
    double *dm;      /* the delays as drawn (ms): event integrator only */
} blk_syn;

static double draw(const snn_dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case SNN_DIST_UNIFORM:
        return d->a + (d->b - d->a) * gsl_rng_uniform(r);
    case SNN_DIST_NORMAL: {
        double y;
        do
            y = d->a + gsl_ran_gaussian(r, d->b);
        while (y < d->lo || y > d->hi);
        return y;
    }
    default:
        return d->a;
    }
}

static int push(blk_syn *b, uint32_t pre)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        uint32_t *p = realloc(b->pre, cap * sizeof *p);
        if (!p)
            return -1;
        b->pre = p;
        b->cap = cap;
    }
    b->pre[b->n++] = pre;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sources of target j, ascending, appended to b; returns 0 or -1 (memory). */
static int sources(const snn_proj_spec *ps, size_t n_pre, uint32_t j, bool self, gsl_rng *r,
                   uint64_t *bits, blk_syn *b)
{
    bool excl = (self && !ps->autapses) || ps->skip_same_index;
    size_t start = b->n;
    switch (ps->conn) {
    case SNN_CONN_ALL_TO_ALL:
        for (uint32_t i = 0; i < n_pre; i++)
            if (!(excl && i == j) && push(b, i))
                return -1;
        break;
    case SNN_CONN_ONE_TO_ONE:
        if (push(b, j))
            return -1;
        break;
    case SNN_CONN_BERNOULLI:
        if (ps->p <= 0.0)
            break;
        /* Geometric skipping: the gap to the next source is geometric(p). */
        for (size_t i = gsl_ran_geometric(r, ps->p) - 1; i < n_pre;
             i += gsl_ran_geometric(r, ps->p))
            if (!(excl && i == j) && push(b, (uint32_t)i))
                return -1;
        break;
    case SNN_CONN_LOCAL: {
        const snn_local_spec *g = &ps->local;
        uint32_t nx, ny;
        snn_local_locations(g, &nx, &ny);
        uint32_t l = j / g->per_location;
        size_t x0 = (size_t)(l % nx) * g->stride, y0 = (size_t)(l / nx) * g->stride;
        /* Rows top to bottom, pixels left to right: ascending ids. */
        for (size_t y = y0; y < y0 + g->patch; y++)
            for (size_t x = x0; x < x0 + g->patch; x++) {
                size_t i = y * g->width + x;
                if (!(excl && i == j) && push(b, (uint32_t)i))
                    return -1;
            }
        break;
    }
    case SNN_CONN_LOCAL_GROUPS: {
        size_t g = ps->local.group_size, i0 = (size_t)j / g * g;
        for (size_t i = i0; i < i0 + g && i < n_pre; i++)
            if (!(excl && i == j) && push(b, (uint32_t)i))
                return -1;
        break;
    }
    case SNN_CONN_INDEGREE: {
        size_t k = ps->k, avail = n_pre - (excl && j < n_pre ? 1 : 0);
        if (ps->multapses) {
            for (size_t m = 0; m < k; m++) {
                uint32_t i;
                do
                    i = (uint32_t)gsl_rng_uniform_int(r, n_pre);
                while (excl && i == j);
                if (push(b, i))
                    return -1;
            }
            qsort(b->pre + start, k, sizeof(uint32_t), cmp_u32);
        } else if (2 * k <= avail) {
            /* Rejection with a bitmap of chosen sources; reading the bitmap
               back word by word lists them in ascending order. */
            for (size_t m = 0; m < k;) {
                uint32_t i = (uint32_t)gsl_rng_uniform_int(r, n_pre);
                if ((excl && i == j) || (bits[i >> 6] >> (i & 63) & 1))
                    continue;
                bits[i >> 6] |= 1ULL << (i & 63);
                m++;
            }
            for (size_t wd = 0; wd <= (n_pre - 1) >> 6; wd++)
                for (uint64_t x = bits[wd]; x; x &= x - 1)
                    if (push(b, (uint32_t)(wd * 64 + (size_t)__builtin_ctzll(x))))
                        return -1;
            for (size_t m = start; m < b->n; m++)
                bits[b->pre[m] >> 6] = 0;
        } else {
            /* Selection sampling (Knuth's algorithm S): ascending already. */
            size_t need = k, left = avail;
            for (uint32_t i = 0; i < n_pre && need; i++) {
                if (excl && i == j)
                    continue;
                if (gsl_rng_uniform(r) * (double)left < (double)need) {
                    if (push(b, i))
                        return -1;
                    need--;
                }
                left--;
            }
        }
        break;
    }
    case SNN_CONN_N:
        break;
    }
    return 0;
}

static void blk_free(blk_syn *b)
{
    free(b->cnt);
    free(b->pre);
    free(b->w);
    free(b->d);
    free(b->dm);
}

/* Draw every synapse onto target block `blk`. */
static int gen_block(const snn_net *net, const snn_proj *pj, const snn_proj_spec *ps,
                     size_t blk, uint64_t *bits, blk_syn *b)
{
    const snn_pop *post = pj->post;
    size_t i0 = blk * SNN_BLOCK, i1 = snn_blk_end(post, blk);
    bool self = pj->pre == pj->post;
    gsl_rng *r = snn_rng_alloc(net->spec->seed, snn_rng_owner(SNN_RNG_CONN, pj->index),
                               (uint32_t)blk);
    b->cnt = calloc(i1 - i0, sizeof *b->cnt);
    if (!r || !b->cnt)
        goto oom;
    for (size_t j = i0; j < i1; j++) {
        size_t before = b->n;
        if (sources(ps, pj->pre->n, (uint32_t)j, self, r, bits, b))
            goto oom;
        b->cnt[j - i0] = (uint32_t)(b->n - before);
    }
    b->w = malloc((b->n ? b->n : 1) * sizeof *b->w);
    b->d = pj->delay ? NULL : malloc((b->n ? b->n : 1) * sizeof *b->d);
    bool exact = !pj->delay && net->spec->integrator == SNN_INTEGRATOR_EVENT;
    b->dm = exact ? malloc((b->n ? b->n : 1) * sizeof *b->dm) : NULL;
    if (!b->w || (!pj->delay && !b->d) || (exact && !b->dm))
        goto oom;
    for (size_t m = 0; m < b->n; m++) {
        b->w[m] = draw(&ps->weight, r);
        if (!pj->delay) {
            double dm = draw(&ps->delay_ms, r);
            long d = lround(dm / net->dt_ms);
            b->d[m] = (uint16_t)(d < 1 ? 1 : d);
            if (exact)
                b->dm[m] = dm;
        }
    }
    gsl_rng_free(r);
    return 0;
oom:
    gsl_rng_free(r);
    return -1;
}

/* Scatter the blocks of partition t into its CSR rows (by pre); exact: also
   the delays as drawn (pt->delay_ms). */
static int fill_part(snn_proj *pj, snn_part *pt, const blk_syn *blks, size_t b0, size_t b1,
                     bool exact)
{
    size_t n_pre = pj->pre->n;
    pt->row = calloc(n_pre + 1, sizeof *pt->row);
    if (!pt->row)
        return -1;
    for (size_t b = b0; b < b1; b++)
        for (size_t m = 0; m < blks[b].n; m++)
            pt->row[blks[b].pre[m] + 1]++;
    for (size_t i = 0; i < n_pre; i++)
        pt->row[i + 1] += pt->row[i];
    pt->nnz = pt->row[n_pre];
    pt->col = malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->col);
    pt->w = malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->w);
    pt->delay = pj->delay ? NULL : malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->delay);
    pt->delay_ms = exact ? malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->delay_ms) : NULL;
    size_t *pos = malloc((n_pre ? n_pre : 1) * sizeof *pos);
    if (!pt->col || !pt->w || (!pj->delay && !pt->delay) || (exact && !pt->delay_ms) || !pos) {
        free(pos);
        return -1;
    }
    memcpy(pos, pt->row, n_pre * sizeof *pos);
    for (size_t b = b0; b < b1; b++) {
        const blk_syn *bs = &blks[b];
        size_t m = 0;
        for (size_t jj = 0; jj < SNN_BLOCK && m < bs->n; jj++) {
            uint32_t post = (uint32_t)(b * SNN_BLOCK + jj);
            for (uint32_t c = 0; c < bs->cnt[jj]; c++, m++) {
                size_t k = pos[bs->pre[m]]++;
                pt->col[k] = post;
                pt->w[k] = bs->w[m];
                if (pt->delay)
                    pt->delay[k] = bs->d[m];
                if (pt->delay_ms)
                    pt->delay_ms[k] = bs->dm[m];
            }
        }
    }
    free(pos);
    return 0;
}

/* Column index of partition pt for on_post (see snn_part). */
static int index_columns(snn_proj *pj, snn_part *pt)
{
    size_t n_pre = pj->pre->n, n_loc = pt->post_hi - pt->post_lo;
    if (pj->dense) {
        pt->post_ids = malloc((n_loc ? n_loc : 1) * sizeof *pt->post_ids);
        pt->all_pre = malloc((n_pre ? n_pre : 1) * sizeof *pt->all_pre);
        pt->cpos = malloc((n_pre ? n_pre : 1) * sizeof *pt->cpos);
        if (!pt->post_ids || !pt->all_pre || !pt->cpos)
            return -1;
        for (size_t j = 0; j < n_loc; j++)
            pt->post_ids[j] = (uint32_t)(pt->post_lo + j);
        for (size_t i = 0; i < n_pre; i++)
            pt->all_pre[i] = (uint32_t)i;
        return 0;
    }
    pt->cptr = calloc(n_loc + 1, sizeof *pt->cptr);
    pt->cpre = malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->cpre);
    pt->cpos = malloc((pt->nnz ? pt->nnz : 1) * sizeof *pt->cpos);
    size_t *fill = malloc((n_loc ? n_loc : 1) * sizeof *fill);
    if (!pt->cptr || !pt->cpre || !pt->cpos || !fill) {
        free(fill);
        return -1;
    }
    for (size_t q = 0; q < pt->nnz; q++)
        pt->cptr[pt->col[q] - pt->post_lo + 1]++;
    for (size_t j = 0; j < n_loc; j++)
        pt->cptr[j + 1] += pt->cptr[j];
    memcpy(fill, pt->cptr, n_loc * sizeof *fill);
    /* Rows are visited by ascending pre, so each column lists its sources
       in ascending order. */
    for (size_t i = 0; i < n_pre; i++)
        for (size_t q = pt->row[i]; q < pt->row[i + 1]; q++) {
            size_t m = fill[pt->col[q] - pt->post_lo]++;
            pt->cpre[m] = (uint32_t)i;
            pt->cpos[m] = q;
        }
    free(fill);
    return 0;
}

/* Geometry checks of the connectors local and local_groups (io/cfg.c makes
   the same checks with the setting's line; these guard hand-built specs). */
static int check_local(const snn_proj *pj, const snn_proj_spec *ps, snn_err *err)
{
    const snn_local_spec *g = &ps->local;
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    if (ps->conn == SNN_CONN_LOCAL_GROUPS) {
        if (g->group_size == 0 || n_pre != n_post || n_post % g->group_size != 0)
            SNN_FAIL(err, SNN_ECFG,
                     "%s:%d: projection '%s': local_groups needs pre and post of equal size "
                     "cut into whole groups, but group_size = %u with %zu -> %zu neurons",
                     ps->where.file, ps->where.line, ps->name, g->group_size, n_pre, n_post);
        return SNN_OK;
    }
    if (ps->conn != SNN_CONN_LOCAL)
        return SNN_OK;
    uint32_t nx, ny;
    snn_local_locations(g, &nx, &ny);
    if ((size_t)g->width * g->height != n_pre || nx == 0 || ny == 0 || g->per_location == 0)
        SNN_FAIL(err, SNN_ECFG,
                 "%s:%d: projection '%s': local needs width x height = the %zu neurons of "
                 "pre, 1 <= patch <= width and height, stride >= 1 and per_location >= 1; "
                 "got %u x %u, patch %u, stride %u, per_location %u",
                 ps->where.file, ps->where.line, ps->name, n_pre, g->width, g->height,
                 g->patch, g->stride, g->per_location);
    if ((size_t)nx * ny * g->per_location != n_post)
        SNN_FAIL(err, SNN_ECFG,
                 "%s:%d: projection '%s': local makes %u x %u = %u locations x %u per "
                 "location = %zu post neurons, but post has %zu",
                 ps->where.file, ps->where.line, ps->name, nx, ny, nx * ny, g->per_location,
                 (size_t)nx * ny * g->per_location, n_post);
    return SNN_OK;
}

int snn_connect(snn_net *net, snn_proj *pj, const snn_proj_spec *ps, uint32_t index,
                snn_err *err)
{
    memset(pj, 0, sizeof *pj);
    pj->spec = ps;
    pj->index = index;
    pj->pre = &net->pops[ps->pre];
    pj->post = &net->pops[ps->post];
    pj->channel = ps->channel;
    const snn_pop *post = pj->post;
    size_t n_pre = pj->pre->n;

    if (ps->delay_ms.kind == SNN_DIST_UNIFORM) {
        pj->delay = 0;
        pj->max_delay = (uint32_t)lround(ps->delay_ms.b / net->dt_ms);
    } else {
        double d = ps->delay_ms.kind == SNN_DIST_CONST ? ps->delay_ms.a : net->dt_ms;
        pj->delay = pj->max_delay = (uint32_t)lround(d / net->dt_ms);
    }
    if (ps->conn == SNN_CONN_ONE_TO_ONE && n_pre != post->n)
        SNN_FAIL(err, SNN_ECFG, "%s:%d: projection '%s': one_to_one needs equal sizes (%zu -> %zu)",
                 ps->where.file, ps->where.line, ps->name, n_pre, post->n);
    if (ps->skip_same_index && n_pre != post->n)
        SNN_FAIL(err, SNN_ECFG, "%s:%d: projection '%s': skip_same_index needs populations of "
                 "equal size (%zu -> %zu)", ps->where.file, ps->where.line, ps->name, n_pre,
                 post->n);
    if (ps->conn == SNN_CONN_ONE_TO_ONE && pj->pre == pj->post && !ps->autapses)
        SNN_FAIL(err, SNN_ECFG,
                 "%s:%d: projection '%s': one_to_one from a population onto itself makes only "
                 "autapses; set autapses = true",
                 ps->where.file, ps->where.line, ps->name);
    int rc = check_local(pj, ps, err);
    if (rc)
        return rc;
    if (ps->conn == SNN_CONN_INDEGREE && !ps->multapses) {
        size_t avail =
            n_pre - ((pj->pre == pj->post && !ps->autapses) || ps->skip_same_index ? 1 : 0);
        if (ps->k > avail)
            SNN_FAIL(err, SNN_ECFG,
                     "%s:%d: projection '%s': k = %zu exceeds the %zu distinct sources "
                     "(set multapses = true to allow repeats)",
                     ps->where.file, ps->where.line, ps->name, ps->k, avail);
    }

    /* Partitions: contiguous ranges of whole target blocks, one per thread. */
    size_t np = (size_t)net->threads;
    if (np > post->n_blk)
        np = post->n_blk ? post->n_blk : 1;
    pj->n_parts = np;
    pj->parts = calloc(np, sizeof *pj->parts);
    size_t *bstart = malloc((np + 1) * sizeof *bstart);
    if (!pj->parts || !bstart) {
        free(bstart);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for projection '%s'", ps->name);
    }
    for (size_t t = 0; t <= np; t++)
        bstart[t] = t * post->n_blk / np;
    for (size_t t = 0; t < np; t++) {
        pj->parts[t].post_lo = (uint32_t)(bstart[t] * SNN_BLOCK);
        pj->parts[t].post_hi = (uint32_t)(t + 1 == np ? post->n : bstart[t + 1] * SNN_BLOCK);
    }

    pj->dense = ps->conn == SNN_CONN_ALL_TO_ALL && pj->delay &&
                !(pj->pre == pj->post && !ps->autapses) && !ps->skip_same_index;

    /* Event integrator: per-synapse delays also kept as drawn, in ms. */
    bool exact_delays = !pj->delay && net->spec->integrator == SNN_INTEGRATOR_EVENT;
    blk_syn *blks = calloc(post->n_blk ? post->n_blk : 1, sizeof *blks);
    if (!blks) {
        free(bstart);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for projection '%s'", ps->name);
    }
    int fail = 0;
#pragma omp parallel num_threads(net->threads) reduction(| : fail)
    {
        uint64_t *bits = calloc(n_pre / 64 + 1, sizeof *bits);
        fail |= bits == NULL;
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < post->n_blk; b++)
            if (bits && gen_block(net, pj, ps, b, bits, &blks[b]))
                fail = 1;
        free(bits);
    }
    if (!fail && pj->dense) {
        size_t nd = n_pre * post->n;
        pj->w_dense = calloc(nd ? nd : 1, sizeof *pj->w_dense);
        fail = pj->w_dense == NULL;
        for (size_t b = 0; !fail && b < post->n_blk; b++) {
            size_t m = 0;
            for (size_t jj = 0; m < blks[b].n; jj++)
                for (uint32_t c = 0; c < blks[b].cnt[jj]; c++, m++)
                    pj->w_dense[(size_t)blks[b].pre[m] * post->n + b * SNN_BLOCK + jj] =
                        blks[b].w[m];
        }
        for (size_t t = 0; t < np; t++)
            pj->parts[t].nnz = (size_t)(pj->parts[t].post_hi - pj->parts[t].post_lo) * n_pre;
    } else if (!fail) {
#pragma omp parallel for num_threads(net->threads) schedule(dynamic, 1) reduction(| : fail)
        for (size_t t = 0; t < np; t++)
            if (fill_part(pj, &pj->parts[t], blks, bstart[t], bstart[t + 1], exact_delays))
                fail = 1;
    }
    for (size_t b = 0; b < post->n_blk; b++)
        blk_free(&blks[b]);
    free(blks);
    free(bstart);
    if (fail)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory drawing the synapses of projection '%s'",
                 ps->name);
    for (size_t t = 0; t < np; t++)
        pj->nnz += pj->parts[t].nnz;
    for (size_t t = 0; t < np; t++) {
        size_t n_loc = pj->parts[t].post_hi - pj->parts[t].post_lo;
        if (!(pj->parts[t].col_sum = malloc((n_loc ? n_loc : 1) * sizeof(double))))
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for projection '%s'", ps->name);
    }
    if (ps->rule)
        for (size_t t = 0; t < np; t++)
            if (index_columns(pj, &pj->parts[t]))
                SNN_FAIL(err, SNN_ENOMEM, "out of memory indexing projection '%s'", ps->name);
    return SNN_OK;
}

void snn_connect_clear(snn_proj *pj)
{
    if (!pj)
        return;
    for (size_t t = 0; pj->parts && t < pj->n_parts; t++) {
        free(pj->parts[t].row);
        free(pj->parts[t].col);
        free(pj->parts[t].w);
        free(pj->parts[t].delay);
        free(pj->parts[t].delay_ms);
        free(pj->parts[t].cptr);
        free(pj->parts[t].cpre);
        free(pj->parts[t].cpos);
        free(pj->parts[t].post_ids);
        free(pj->parts[t].all_pre);
        free(pj->parts[t].col_sum);
    }
    free(pj->parts);
    free(pj->w_dense);
    if (pj->rule && pj->rule->type->release)
        pj->rule->type->release(pj->rule);
    if (pj->rule)
        free(pj->rule->consts);
    free(pj->rule);
    memset(pj, 0, sizeof *pj);
}
