/*
 * sim/state.c: saving and restoring a network's dynamic state (sim/state.h).
 */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

void snn_net_set_weights(snn_proj *pj, const double *w)
{
    size_t n_pre = pj->pre->n, m = 0;
    if (pj->dense) {
        memcpy(pj->w_dense, w, n_pre * pj->post->n * sizeof *w);
        return;
    }
    for (size_t i = 0; i < n_pre; i++)
        for (size_t t = 0; t < pj->n_parts; t++) {
            snn_part *pt = &pj->parts[t];
            for (size_t k = pt->row[i]; k < pt->row[i + 1]; k++)
                pt->w[k] = w[m++];
        }
}

static size_t ring_len(const snn_pop *p)
{
    size_t ch = p->type->n_channels ? p->type->n_channels : 1;
    return p->ring_slots * ch * p->n;
}

/* One helper per direction keeps the item list in one place (state_items). */
typedef struct st_ctx {
    const snn_state_io *io;
    bool load;
    snn_err *err;
} st_ctx;

static int item(st_ctx *c, const char *name, snn_st_type type, void *v, size_t n)
{
    return snn_state_item(c->io, c->load, name, type, v, n, c->err);
}

static int pop_rng(st_ctx *c, snn_pop *p, const char *base)
{
    if (!p->rng || p->n_blk == 0)
        return SNN_OK;
    size_t sz = gsl_rng_size(p->rng[0]);
    unsigned char *buf = malloc(sz * p->n_blk);
    if (!buf)
        SNN_FAIL(c->err, SNN_ENOMEM, "out of memory saving the streams of '%s'", p->name);
    if (!c->load)
        for (size_t b = 0; b < p->n_blk; b++)
            memcpy(buf + b * sz, gsl_rng_state(p->rng[b]), sz);
    char name[256];
    snprintf(name, sizeof name, "%s/rng", base);
    int rc = item(c, name, SNN_ST_U8, buf, sz * p->n_blk);
    if (!rc && c->load)
        for (size_t b = 0; b < p->n_blk; b++)
            memcpy(gsl_rng_state(p->rng[b]), buf + b * sz, sz);
    free(buf);
    return rc;
}

static int pop_spikes(st_ctx *c, snn_pop *p, const char *base)
{
    size_t total = 0;
    uint64_t *cnt = malloc((p->n_blk + 1) * sizeof *cnt);
    uint32_t *ids = malloc((p->n + 1) * sizeof *ids), *mult = malloc((p->n + 1) * sizeof *mult);
    int rc = SNN_OK;
    if (!cnt || !ids || !mult) {
        rc = snn_err_set(c->err, SNN_ENOMEM, "out of memory saving the spikes of '%s'", p->name);
        goto out;
    }
    char name[256];
    if (!c->load)
        for (size_t b = 0; b < p->n_blk; b++) {
            cnt[b] = p->spk[b].n;
            memcpy(ids + total, p->spk[b].id, p->spk[b].n * sizeof *ids);
            memcpy(mult + total, p->spk[b].mult, p->spk[b].n * sizeof *mult);
            total += p->spk[b].n;
        }
    snprintf(name, sizeof name, "%s/spk_n", base);
    if ((rc = item(c, name, SNN_ST_U64, cnt, p->n_blk)))
        goto out;
    if (c->load) {
        for (size_t b = 0; b < p->n_blk; b++) {
            size_t cap = snn_blk_end(p, b) - b * (size_t)SNN_BLOCK;
            if (cnt[b] > cap) {
                rc = snn_err_set(c->err, SNN_ECFG,
                                 "checkpoint: %zu spikes in block %zu of '%s' (at most %zu)",
                                 (size_t)cnt[b], b, p->name, cap);
                goto out;
            }
            total += cnt[b];
        }
    }
    snprintf(name, sizeof name, "%s/spk_id", base);
    if ((rc = item(c, name, SNN_ST_U32, ids, total)))
        goto out;
    snprintf(name, sizeof name, "%s/spk_mult", base);
    if ((rc = item(c, name, SNN_ST_U32, mult, total)))
        goto out;
    if (c->load) {
        size_t off = 0;
        for (size_t b = 0; b < p->n_blk; b++) {
            size_t lo = b * (size_t)SNN_BLOCK, hi = snn_blk_end(p, b);
            for (size_t j = 0; j < cnt[b]; j++)
                if (ids[off + j] < lo || ids[off + j] >= hi || mult[off + j] == 0) {
                    rc = snn_err_set(c->err, SNN_ECFG,
                                     "checkpoint: bad spike entry in block %zu of '%s'", b,
                                     p->name);
                    goto out;
                }
            memcpy(p->spk[b].id, ids + off, cnt[b] * sizeof *ids);
            memcpy(p->spk[b].mult, mult + off, cnt[b] * sizeof *mult);
            p->spk[b].n = cnt[b];
            off += cnt[b];
        }
    }
out:
    free(cnt);
    free(ids);
    free(mult);
    return rc;
}

static int pop_items(st_ctx *c, snn_pop *p)
{
    char base[160], name[256];
    snprintf(base, sizeof base, "pops/%s", p->name);
    int rc;
    for (size_t s = 0; s < p->type->n_state; s++) {
        snprintf(name, sizeof name, "%s/x/%s", base, p->type->state[s]);
        if ((rc = item(c, name, SNN_ST_F64, p->x[s], p->n)))
            return rc;
    }
    if (p->refr) {
        snprintf(name, sizeof name, "%s/refr", base);
        if ((rc = item(c, name, SNN_ST_I32, p->refr, p->n)))
            return rc;
    }
    snprintf(name, sizeof name, "%s/ring", base);
    if ((rc = item(c, name, SNN_ST_F64, p->ring, ring_len(p))))
        return rc;
    if (p->i_ext) {
        snprintf(name, sizeof name, "%s/i_ext", base);
        if ((rc = item(c, name, SNN_ST_F64, p->i_ext, p->n)))
            return rc;
    }
    for (size_t k = 0; k < p->n_traces; k++) {
        snprintf(name, sizeof name, "%s/trace/%zu", base, k);
        if ((rc = item(c, name, SNN_ST_F64, p->traces[k].x, p->n)))
            return rc;
    }
    if ((rc = pop_rng(c, p, base)))
        return rc;
    return pop_spikes(c, p, base);
}

static int proj_items(st_ctx *c, snn_proj *pj)
{
    double *w = malloc((pj->nnz ? pj->nnz : 1) * sizeof *w);
    if (!w)
        SNN_FAIL(c->err, SNN_ENOMEM, "out of memory saving the weights of '%s'", pj->spec->name);
    if (!c->load)
        snn_net_weights(pj, w, NULL, NULL);
    char name[256];
    snprintf(name, sizeof name, "projs/%s/w", pj->spec->name);
    int rc = item(c, name, SNN_ST_F64, w, pj->nnz);
    if (!rc && c->load)
        snn_net_set_weights(pj, w);
    free(w);
    /* Events delivered (the run's synaptic_events): one total, which a
       network built with another thread count keeps in its first part. */
    uint64_t ev = 0;
    for (size_t t = 0; !c->load && t < pj->n_parts; t++)
        ev += pj->parts[t].events;
    snprintf(name, sizeof name, "projs/%s/events", pj->spec->name);
    if (!rc && !(rc = item(c, name, SNN_ST_U64, &ev, 1)) && c->load)
        for (size_t t = 0; t < pj->n_parts; t++)
            pj->parts[t].events = t == 0 ? ev : 0;
    return rc;
}

/* A rule's own arrays, under projs/<name>/rule/<item>. */
typedef struct rule_ctx {
    st_ctx *c;
    const char *proj;
} rule_ctx;

static int rule_item(void *ud, const char *name, snn_rule_elem type, void *v, size_t n,
                     snn_err *err)
{
    rule_ctx *rc = ud;
    static const snn_st_type map[] = {[SNN_RULE_F64] = SNN_ST_F64, [SNN_RULE_U64] = SNN_ST_U64,
                                      [SNN_RULE_U8] = SNN_ST_U8};
    char full[256];
    snprintf(full, sizeof full, "projs/%s/rule/%s", rc->proj, name);
    (void)err; /* the context's error sink, the same one */
    return item(rc->c, full, map[type], v, n);
}

static int rule_items(st_ctx *c, snn_proj *pj)
{
    snn_rule *r = pj->rule;
    if (!r || !r->type->state)
        return SNN_OK;
    rule_ctx ctx = {c, pj->spec->name};
    snn_rule_io io = {rule_item, &ctx, c->load};
    return r->type->state(r, pj, &io, c->err);
}

static int net_items(st_ctx *c, snn_net *net)
{
    uint64_t head[2] = {net->step, net->plasticity_off};
    int rc = item(c, "net/head", SNN_ST_U64, head, 2);
    if (rc)
        return rc;
    if (c->load) {
        /* (runs with phases step past simulation.duration_ms: no bound) */
        if (net->spec->n_phases == 0 && head[0] > net->n_steps)
            SNN_FAIL(c->err, SNN_ECFG, "checkpoint: step %llu is past the run's %zu steps",
                     (unsigned long long)head[0], net->n_steps);
        net->step = head[0];
        net->plasticity_off = head[1] != 0;
    }
    if ((rc = item(c, "net/spike_count", SNN_ST_U64, net->spike_count, net->n_pops)))
        return rc;
    for (size_t q = 0; q < net->n_pops; q++)
        if ((rc = pop_items(c, &net->pops[q])))
            return rc;
    for (size_t q = 0; q < net->n_projs; q++)
        if ((rc = proj_items(c, &net->projs[q])) || (rc = rule_items(c, &net->projs[q])))
            return rc;
    for (size_t q = 0; q < net->n_currents; q++) {
        snn_current *cu = &net->currents[q];
        char name[64];
        uint64_t next = cu->next;
        snprintf(name, sizeof name, "currents/%zu/next", q);
        if ((rc = item(c, name, SNN_ST_U64, &next, 1)))
            return rc;
        snprintf(name, sizeof name, "currents/%zu/amp", q);
        if ((rc = item(c, name, SNN_ST_F64, &cu->amp, 1)))
            return rc;
        if (c->load) {
            if (next > cu->n_changes)
                SNN_FAIL(c->err, SNN_ECFG, "checkpoint: bad cursor of current input %zu", q);
            cu->next = next;
        }
    }
    return SNN_OK;
}

int snn_net_state_save(const snn_net *net, const snn_state_io *io, snn_err *err)
{
    st_ctx c = {.io = io, .load = false, .err = err};
    /* Saving only reads: the shared walker takes a non-const net. */
    return net_items(&c, (snn_net *)net);
}

int snn_net_state_load(snn_net *net, const snn_state_io *io, snn_err *err)
{
    st_ctx c = {.io = io, .load = true, .err = err};
    return net_items(&c, net);
}
