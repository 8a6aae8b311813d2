/*
 * io/plot.c: `snn plot` — figures of a recorded HDF5 file as PNG through
 * cairo (image surfaces, toy text API).  Which figures and their layout:
 * io/plot.h.  Data are read through io/analyze.h's readers; a figure whose
 * data is absent is skipped silently, and each file written is reported.
 */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cairo.h>

#include "analyze.h"

#define PI 3.14159265358979323846

typedef struct pctx {
    const char *fname, *dir;
    FILE *out;
    size_t made;
    hid_t f;
} pctx;

typedef struct rgb {
    double r, g, b;
} rgb;

static const rgb palette[6] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17},
                               {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}};

/* Pixel box (x, y, w, h) showing data range [x0, x1] x [y0, y1]. */
typedef struct frame {
    double x, y, w, h;
    double x0, x1, y0, y1;
} frame;

static double fx(const frame *f, double v)
{
    return f->x + (v - f->x0) / (f->x1 - f->x0) * f->w;
}

static double fy(const frame *f, double v)
{
    return f->y + f->h - (v - f->y0) / (f->y1 - f->y0) * f->h;
}

/* Finite range of v[0..n) into [*lo, *hi] (widened when empty or flat). */
static void range_of(const double *v, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = v[i] < *lo ? v[i] : *lo;
            *hi = v[i] > *hi ? v[i] : *hi;
        }
}

static void fix_range(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0.0;
        *hi = 1.0;
    } else if (*hi <= *lo) {
        double d = fabs(*lo) > 0 ? 0.05 * fabs(*lo) : 0.5;
        *lo -= d;
        *hi += d;
    }
}

/* A round tick step (1, 2 or 5 x 10^k) giving about 5 ticks over [lo, hi]. */
static double tick_step(double lo, double hi)
{
    double raw = (hi - lo) / 5.0, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ax * e.width - e.x_bearing, y - ay * e.height - e.y_bearing);
    cairo_show_text(cr, s);
}

static void setup_text(cairo_t *cr, double size)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Axes box, ticks with labels, title above, x label below, y label rotated. */
static void draw_frame(cairo_t *cr, const frame *f, const char *title, const char *xl,
                       const char *yl)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, f->x + 0.5, f->y + 0.5, f->w, f->h);
    cairo_stroke(cr);
    setup_text(cr, 12);
    char buf[64];
    double sx = tick_step(f->x0, f->x1), sy = tick_step(f->y0, f->y1);
    for (double v = ceil(f->x0 / sx) * sx; v <= f->x1 + 1e-9 * sx; v += sx) {
        double px = fx(f, v);
        cairo_move_to(cr, px, f->y + f->h);
        cairo_line_to(cr, px, f->y + f->h + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", fabs(v) < 1e-12 * sx ? 0.0 : v);
        text_at(cr, px, f->y + f->h + 8, buf, 0.5, 0.0);
    }
    for (double v = ceil(f->y0 / sy) * sy; v <= f->y1 + 1e-9 * sy; v += sy) {
        double py = fy(f, v);
        cairo_move_to(cr, f->x, py);
        cairo_line_to(cr, f->x - 5, py);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", fabs(v) < 1e-12 * sy ? 0.0 : v);
        text_at(cr, f->x - 8, py, buf, 1.0, 0.5);
    }
    setup_text(cr, 14);
    if (xl)
        text_at(cr, f->x + f->w / 2, f->y + f->h + 28, xl, 0.5, 0.0);
    if (yl) {
        cairo_save(cr);
        cairo_translate(cr, f->x - 58, f->y + f->h / 2);
        cairo_rotate(cr, -PI / 2);
        text_at(cr, 0, 0, yl, 0.5, 0.5);
        cairo_restore(cr);
    }
    if (title) {
        setup_text(cr, 16);
        text_at(cr, f->x + f->w / 2, f->y - 10, title, 0.5, 1.0);
    }
}

/* A line (with dots when there are few points) through the finite points. */
static void draw_series(cairo_t *cr, const frame *f, const double *x, const double *y,
                        size_t n, rgb c)
{
    cairo_save(cr);
    cairo_rectangle(cr, f->x, f->y, f->w + 1, f->h + 1);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_set_line_width(cr, 2.0);
    int pen = 0;
    for (size_t i = 0; i < n; i++) {
        double xv = x ? x[i] : (double)i;
        if (!isfinite(y[i]) || !isfinite(xv)) {
            pen = 0;
            continue;
        }
        if (pen)
            cairo_line_to(cr, fx(f, xv), fy(f, y[i]));
        else
            cairo_move_to(cr, fx(f, xv), fy(f, y[i]));
        pen = 1;
    }
    cairo_stroke(cr);
    for (size_t i = 0; n <= 60 && i < n; i++) {
        double xv = x ? x[i] : (double)i;
        if (isfinite(y[i]) && isfinite(xv)) {
            cairo_arc(cr, fx(f, xv), fy(f, y[i]), 3.0, 0, 2 * PI);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
}

/* Legend in the lower right corner of the frame, on a translucent white box. */
static void legend(cairo_t *cr, const frame *f, const char *const *names, size_t n)
{
    if (!n)
        return;
    setup_text(cr, 12);
    double wmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, names[i], &e);
        wmax = e.x_advance > wmax ? e.x_advance : wmax;
    }
    double bw = wmax + 44, bh = 18.0 * (double)n + 10;
    double bx = f->x + f->w - bw - 6, by = f->y + f->h - bh - 6;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    for (size_t i = 0; i < n; i++) {
        rgb c = palette[i % 6];
        double y = by + 16 + 18.0 * (double)i;
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        cairo_rectangle(cr, bx + 8, y - 5, 16, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, bx + 32, y - 3, names[i], 0.0, 0.5);
    }
}

static cairo_t *new_canvas(cairo_surface_t **s, int w, int h)
{
    *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(*s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    return cr;
}

/* Write the surface to dir/name and report it; frees cr and s. */
static int save(pctx *p, cairo_t *cr, cairo_surface_t *s, const char *name, const char *what,
                snn_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", p->dir, name);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        SNN_FAIL(err, SNN_EIO, "%s: cannot write (cairo: %s)", path,
                 cairo_status_to_string(st));
    fprintf(p->out, "made: %s (%s)\n", path, what);
    p->made++;
    return SNN_OK;
}

/* ---- spike raster with the population rate beneath ------------------------ */

enum {
    RASTER_NEURONS = 500,  /* at most this many rows (the lowest ids) */
    RASTER_SPIKES = 50000  /* about a fifth of the panel's pixels */
};

static int plot_raster(pctx *p, const char *pop, snn_err *err)
{
    snn_an_trains tr;
    int rc = snn_an_read_trains(p->f, p->fname, pop, &tr, err);
    if (rc)
        return rc;
    if (!tr.n_spikes || !tr.n_neurons) {
        snn_an_trains_clear(&tr);
        return SNN_OK;
    }
    double dur = 0.0, t0 = 0.0;
    snn_an_attr_num(p->f, "/", "duration_ms", &dur);
    if (!(dur > 0) || tr.t_max > dur || tr.t_min < 0) {
        t0 = tr.t_min < 0 ? tr.t_min : 0.0;
        dur = tr.t_max - t0;
    }
    if (!(dur > 0))
        dur = 1.0;
    /* Keep the raster readable: at most RASTER_NEURONS neurons (the first
       ids) and RASTER_SPIKES dots, by showing the first part of the run. */
    size_t nshow = tr.n_neurons < RASTER_NEURONS ? tr.n_neurons : RASTER_NEURONS;
    size_t shown = tr.off[nshow];
    double win = dur;
    if (shown > RASTER_SPIKES) {
        win = dur * RASTER_SPIKES / (double)shown;
        double st = tick_step(0.0, win); /* round down to a tick: 1, 2 or 5 x 10^k */
        win = floor(win / st) * st > 0 ? floor(win / st) * st : win;
    }
    enum { NB = 200 };
    double rate[NB], tc[NB];
    double bw = win / NB;
    for (size_t b = 0; b < NB; b++) {
        rate[b] = 0.0;
        tc[b] = t0 + ((double)b + 0.5) * bw;
    }
    for (size_t k = 0; k < tr.n_spikes; k++) {
        double x = (tr.t[k] - t0) / bw;
        if (x >= 0 && x <= NB) /* the last bin includes its right edge */
            rate[x < NB ? (size_t)x : NB - 1] += 1.0;
    }
    for (size_t b = 0; b < NB; b++)
        rate[b] /= (double)tr.n_neurons * bw / 1000.0;
    cairo_surface_t *s;
    cairo_t *cr = new_canvas(&s, SNN_PLOT_W, SNN_PLOT_H);
    frame fr = {90, 50, SNN_PLOT_W - 120, 0.62 * SNN_PLOT_H - 60, t0, t0 + win, -0.5,
                (double)nshow - 0.5};
    frame fb = {90, 0.62 * SNN_PLOT_H + 20, SNN_PLOT_W - 120, 0.38 * SNN_PLOT_H - 80, t0,
                t0 + win, 0.0, 0.0};
    double lo = INFINITY, hi = -INFINITY;
    range_of(rate, NB, &lo, &hi);
    fb.y1 = hi > 0 ? 1.1 * hi : 1.0;
    double dot = fr.h / (double)nshow;
    dot = dot > 2.0 ? 2.0 : 1.0; /* 2 px when there is room, else 1 px */
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (size_t i = 0; i < nshow; i++)
        for (size_t k = tr.off[i]; k < tr.off[i + 1] && tr.t[k] <= t0 + win; k++)
            if (tr.t[k] >= t0)
                cairo_rectangle(cr, floor(fx(&fr, tr.t[k]) - dot / 2), /* on the pixel grid */
                                floor(fy(&fr, (double)i) - dot / 2), dot, dot);
    cairo_fill(cr);
    char title[700];
    int part = nshow < tr.n_neurons || win < dur;
    int off = snprintf(title, sizeof title, "Spikes of %s (%zu neurons, %zu spikes)",
                       pop[0] ? pop : "population", tr.n_neurons, tr.n_spikes);
    if (part)
        snprintf(title + off, sizeof title - (size_t)off, ": ids 0-%zu, %.6g-%.6g ms shown",
                 nshow - 1, t0, t0 + win);
    draw_frame(cr, &fr, title, NULL, "neuron id");
    draw_series(cr, &fb, tc, rate, NB, palette[0]);
    char yl[64];
    snprintf(yl, sizeof yl, "rate (Hz), %.3g ms bins", bw);
    draw_frame(cr, &fb, NULL, "time (ms)", yl);
    snn_an_trains_clear(&tr);
    char name[600];
    snprintf(name, sizeof name, "raster_%s.png", pop[0] ? pop : "spikes");
    return save(p, cr, s, name, "spike raster and population rate", err);
}

/* Read a 1-D float dataset if present (NULL, 0 otherwise). */
static double *read_vec(pctx *p, const char *path, size_t *n)
{
    *n = 0;
    if (!snn_an_is_dataset(p->f, path))
        return NULL;
    double *v;
    size_t d[3];
    int r;
    snn_err e;
    if (snn_an_read_f64(p->f, p->fname, path, &v, d, &r, &e))
        return NULL;
    if (r != 1) {
        free(v);
        return NULL;
    }
    *n = d[0];
    return v;
}

/* ---- weights: receptive fields and histograms ------------------------------ */

typedef struct wsnap {
    size_t S, n_pre, n_post;
    double *w;     /* [S, n_pre, n_post] dense */
    double *times;   /* [S] ms, or NULL */
    double *samples; /* [S] training samples seen (/weights/<proj>/samples), or NULL */
} wsnap;

static void wsnap_clear(wsnap *w)
{
    free(w->w);
    free(w->times);
    free(w->samples);
    memset(w, 0, sizeof *w);
}

/* Dense snapshots of /weights/<proj> (sparse ones scattered into dense);
   w->S = 0 when absent or too large (more than 2^26 weights per snapshot). */
static int read_weights(pctx *p, const char *proj, wsnap *ws, snn_err *err)
{
    memset(ws, 0, sizeof *ws);
    char path[1200];
    snprintf(path, sizeof path, "/weights/%s/values", proj);
    if (!snn_an_is_dataset(p->f, path))
        return SNN_OK;
    double *v = NULL;
    uint64_t *pre = NULL, *post = NULL;
    size_t dv[3], dp[3], dq[3];
    int rv, rp, rq;
    int rc = snn_an_read_f64(p->f, p->fname, path, &v, dv, &rv, err);
    if (rc)
        return rc;
    if (rv == 3) {
        ws->S = dv[0];
        ws->n_pre = dv[1];
        ws->n_post = dv[2];
        ws->w = v;
        v = NULL;
    } else if (rv == 2) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "/weights/%s/pre", proj);
        snprintf(b, sizeof b, "/weights/%s/post", proj);
        if ((rc = snn_an_read_u64(p->f, p->fname, a, &pre, dp, &rp, err)) ||
            (rc = snn_an_read_u64(p->f, p->fname, b, &post, dq, &rq, err)))
            goto out;
        if (dp[0] != dv[1] || dq[0] != dv[1])
            goto out;
        size_t np = 0, nq = 0;
        for (size_t e = 0; e < dv[1]; e++) {
            np = pre[e] + 1 > np ? (size_t)pre[e] + 1 : np;
            nq = post[e] + 1 > nq ? (size_t)post[e] + 1 : nq;
        }
        if (!np || !nq || np > (1u << 26) / nq || dv[0] > (1u << 28) / (np * nq))
            goto out;
        if (!(ws->w = calloc(dv[0] * np * nq + 1, sizeof *ws->w))) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for %s", path);
            goto out;
        }
        ws->S = dv[0];
        ws->n_pre = np;
        ws->n_post = nq;
        for (size_t s = 0; s < dv[0]; s++)
            for (size_t e = 0; e < dv[1]; e++)
                ws->w[s * np * nq + pre[e] * nq + post[e]] = v[s * dv[1] + e];
    }
    /* Optional axes: absent, unreadable or of the wrong length -> NULL. */
    size_t n;
    snprintf(path, sizeof path, "/weights/%s/times", proj);
    if (ws->S && (ws->times = read_vec(p, path, &n)) && n != ws->S) {
        free(ws->times);
        ws->times = NULL;
    }
    snprintf(path, sizeof path, "/weights/%s/samples", proj);
    if (ws->S && (ws->samples = read_vec(p, path, &n)) && n != ws->S) {
        free(ws->samples);
        ws->samples = NULL;
    }
out:
    free(v);
    free(pre);
    free(post);
    if (rc)
        wsnap_clear(ws);
    return rc;
}

int snn_plot_rf_size(size_t n_pre, size_t n_post, int *w, int *h)
{
    size_t side = (size_t)llround(sqrt((double)n_pre));
    if (side * side != n_pre || side < 2 || !n_post || n_post > 1u << 16)
        return 0;
    size_t sc = SNN_PLOT_RF_CELL / side ? SNN_PLOT_RF_CELL / side : 1, cell = side * sc;
    size_t cols = (size_t)ceil(sqrt((double)n_post)), rows = (n_post + cols - 1) / cols;
    size_t W = cols * (cell + SNN_PLOT_RF_GAP) + 40, H = rows * (cell + SNN_PLOT_RF_GAP) + 110;
    if (W > 32767 || H > 32767)
        return 0;
    *w = W < 480 ? 480 : (int)W;
    *h = (int)H;
    return 1;
}

static int plot_rf(pctx *p, const char *proj, const wsnap *ws, size_t s, int numbered,
                   snn_err *err)
{
    int W, H;
    if (!snn_plot_rf_size(ws->n_pre, ws->n_post, &W, &H))
        return SNN_OK;
    size_t side = (size_t)llround(sqrt((double)ws->n_pre));
    size_t sc = SNN_PLOT_RF_CELL / side ? SNN_PLOT_RF_CELL / side : 1, cell = side * sc;
    size_t cols = (size_t)ceil(sqrt((double)ws->n_post)), rows = (ws->n_post + cols - 1) / cols;
    const double *w = ws->w + s * ws->n_pre * ws->n_post;
    double lo = 0.0, hi = -INFINITY;
    range_of(w, ws->n_pre * ws->n_post, &lo, &hi);
    if (!(hi > lo))
        hi = lo + 1.0;
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, W, H);
    unsigned char *px = cairo_image_surface_get_data(sf);
    int stride = cairo_image_surface_get_stride(sf);
    size_t x0 = SNN_PLOT_RF_X0, y0 = SNN_PLOT_RF_Y0;
    /* Light grey gaps separate the fields. */
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_rectangle(cr, (double)x0 - SNN_PLOT_RF_GAP, (double)y0 - SNN_PLOT_RF_GAP,
                    (double)(cols * (cell + SNN_PLOT_RF_GAP) + SNN_PLOT_RF_GAP),
                    (double)(rows * (cell + SNN_PLOT_RF_GAP) + SNN_PLOT_RF_GAP));
    cairo_fill(cr);
    cairo_surface_flush(sf);
    for (size_t j = 0; j < ws->n_post; j++) {
        size_t cx = x0 + (j % cols) * (cell + SNN_PLOT_RF_GAP);
        size_t cy = y0 + (j / cols) * (cell + SNN_PLOT_RF_GAP);
        for (size_t r = 0; r < cell; r++)
            for (size_t q = 0; q < cell; q++) {
                double v = w[((r / sc) * side + q / sc) * ws->n_post + j];
                double g = 1.0 - (v - lo) / (hi - lo); /* white = lowest, black = highest */
                uint32_t c = (uint32_t)lround(255.0 * (g < 0 ? 0 : g > 1 ? 1 : g));
                uint32_t *d = (uint32_t *)(px + (cy + r) * (size_t)stride) + cx + q;
                *d = (c << 16) | (c << 8) | c;
            }
    }
    cairo_surface_mark_dirty(sf);
    char title[700], what[200];
    if (ws->samples && ws->times)
        snprintf(title, sizeof title,
                 "Receptive fields of %s after %.0f samples, t = %.6g ms (%zu/%zu)", proj,
                 ws->samples[s], ws->times[s], s + 1, ws->S);
    else if (ws->times)
        snprintf(title, sizeof title, "Receptive fields of %s at t = %.6g ms (%zu/%zu)", proj,
                 ws->times[s], s + 1, ws->S);
    else
        snprintf(title, sizeof title, "Receptive fields of %s, snapshot %zu/%zu", proj, s + 1,
                 ws->S);
    cairo_set_source_rgb(cr, 0, 0, 0);
    setup_text(cr, 16);
    text_at(cr, W / 2.0, 12, title, 0.5, 0.0);
    char sub[300];
    snprintf(sub, sizeof sub, "%zu x %zu inputs per neuron, %zu neurons; white %.3g, black %.3g",
             side, side, ws->n_post, lo, hi);
    setup_text(cr, 12);
    text_at(cr, W / 2.0, 36, sub, 0.5, 0.0);
    char name[700];
    if (numbered)
        snprintf(name, sizeof name, "rf_%s_%zu.png", proj, s);
    else
        snprintf(name, sizeof name, "rf_%s.png", proj);
    snprintf(what, sizeof what, "receptive fields, snapshot %zu", s);
    return save(p, cr, sf, name, what, err);
}

static int plot_whist(pctx *p, const char *proj, const wsnap *ws, snn_err *err)
{
    enum { NB = 50 };
    size_t n = ws->n_pre * ws->n_post, S = ws->S;
    double lo = INFINITY, hi = -INFINITY;
    range_of(ws->w, S * n, &lo, &hi);
    fix_range(&lo, &hi);
    /* x: samples seen, else snapshot time, else index; must increase.
       Column s spans the midpoints to its neighbours. */
    const double *x = ws->samples ? ws->samples : ws->times;
    const char *xl = ws->samples ? "training samples seen" : ws->times ? "snapshot time (ms)"
                                                                      : "snapshot";
    for (size_t s = 1; x && s < S; s++)
        if (!(x[s] > x[s - 1])) {
            x = NULL;
            xl = "snapshot";
        }
    double *h = calloc(S * NB, sizeof *h), *edge = malloc((S + 1) * sizeof *edge);
    if (!h || !edge) {
        free(h);
        free(edge);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for weight histograms");
    }
    for (size_t s = 0; s <= S; s++) {
        if (!x)
            edge[s] = (double)s - 0.5;
        else if (S == 1)
            edge[s] = x[0] + (s ? 0.5 : -0.5);
        else if (s == 0)
            edge[s] = x[0] - (x[1] - x[0]) / 2;
        else if (s == S)
            edge[s] = x[S - 1] + (x[S - 1] - x[S - 2]) / 2;
        else
            edge[s] = (x[s - 1] + x[s]) / 2;
    }
    double hmax = 0.0;
    for (size_t s = 0; s < S; s++) {
        for (size_t e = 0; e < n; e++) {
            double v = ws->w[s * n + e];
            if (!isfinite(v))
                continue;
            size_t b = (size_t)((v - lo) / (hi - lo) * NB);
            h[s * NB + (b < NB ? b : NB - 1)] += 1.0 / (double)n;
        }
        for (size_t b = 0; b < NB; b++)
            hmax = h[s * NB + b] > hmax ? h[s * NB + b] : hmax;
    }
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, SNN_PLOT_W, SNN_PLOT_H);
    frame f = {100, 50, SNN_PLOT_W - 220, SNN_PLOT_H - 130, edge[0], edge[S], lo, hi};
    double ch = f.h / NB;
    for (size_t s = 0; s < S; s++)
        for (size_t b = 0; b < NB; b++) {
            double g = hmax > 0 ? sqrt(h[s * NB + b] / hmax) : 0.0; /* sqrt: see small bins */
            cairo_set_source_rgb(cr, 1.0 - 0.9 * g, 1.0 - 0.6 * g, 1.0 - 0.2 * g);
            cairo_rectangle(cr, fx(&f, edge[s]), f.y + f.h - (double)(b + 1) * ch,
                            fx(&f, edge[s + 1]) - fx(&f, edge[s]) + 0.5, ch + 0.5);
            cairo_fill(cr);
        }
    /* Colour bar. */
    for (int k = 0; k < 100; k++) {
        double g = sqrt(k / 99.0);
        cairo_set_source_rgb(cr, 1.0 - 0.9 * g, 1.0 - 0.6 * g, 1.0 - 0.2 * g);
        cairo_rectangle(cr, f.x + f.w + 30, f.y + f.h - (k + 1) * f.h / 100, 20, f.h / 100 + 0.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    setup_text(cr, 12);
    char buf[700];
    snprintf(buf, sizeof buf, "%.3g", hmax);
    text_at(cr, f.x + f.w + 55, f.y, buf, 0.0, 0.0);
    text_at(cr, f.x + f.w + 55, f.y + f.h, "0", 0.0, 1.0);
    text_at(cr, f.x + f.w + 30, f.y + f.h + 20, "fraction", 0.0, 0.0);
    snprintf(buf, sizeof buf, "Weight distribution of %s over time (%zu synapses)", proj, n);
    draw_frame(cr, &f, buf, xl, "weight");
    free(h);
    free(edge);
    snprintf(buf, sizeof buf, "weights_%s.png", proj);
    return save(p, cr, sf, buf, "weight histograms over time", err);
}

/* ---- line figures ------------------------------------------------------------ */

static int plot_curves(pctx *p, snn_err *err)
{
    static const char *const names[4] = {"loss", "train_accuracy", "test_accuracy",
                                          "learning_rate"};
    double *v[4];
    size_t n[4], any = 0;
    char path[200];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "/readout/curves/%s", names[k]);
        v[k] = read_vec(p, path, &n[k]);
        any |= n[k];
    }
    int rc = SNN_OK;
    if (any) {
        cairo_surface_t *sf;
        cairo_t *cr = new_canvas(&sf, SNN_PLOT_W, SNN_PLOT_H);
        double pw = (SNN_PLOT_W - 240) / 2.0;
        size_t E = n[0] > n[1] ? n[0] : n[1];
        E = n[2] > E ? n[2] : E;
        frame fl = {100, 60, pw, SNN_PLOT_H - 140, 1, E > 1 ? (double)E : 2, INFINITY, -INFINITY};
        frame fa = {100 + pw + 110, 60, pw, SNN_PLOT_H - 140, fl.x0, fl.x1, 0.0, 1.05};
        range_of(v[0], n[0], &fl.y0, &fl.y1);
        fix_range(&fl.y0, &fl.y1);
        fl.y0 = fl.y0 > 0 ? 0.0 : fl.y0;
        fl.y1 += 0.05 * (fl.y1 - fl.y0); /* headroom above the first epoch */
        double *ep = malloc((E ? E : 1) * sizeof *ep);
        if (!ep) {
            cairo_destroy(cr);
            cairo_surface_destroy(sf);
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t e = 0; e < E; e++)
            ep[e] = (double)(e + 1);
        draw_series(cr, &fl, ep, v[0], n[0], palette[0]);
        draw_frame(cr, &fl, "Readout training loss", "epoch", "loss");
        draw_series(cr, &fa, ep, v[1], n[1], palette[0]);
        draw_series(cr, &fa, ep, v[2], n[2], palette[1]);
        draw_frame(cr, &fa, "Readout accuracy", "epoch", "accuracy (fraction)");
        const char *const leg[2] = {"train", "test"};
        legend(cr, &fa, leg, 2);
        free(ep);
        rc = save(p, cr, sf, "learning_curves.png", "readout learning curves", err);
    }
out:
    for (int k = 0; k < 4; k++)
        free(v[k]);
    return rc;
}

static int plot_confusion(pctx *p, const char *dset, const char *name, const char *what,
                          snn_err *err)
{
    if (!snn_an_is_dataset(p->f, dset))
        return SNN_OK;
    double *m;
    size_t d[3];
    int r;
    int rc = snn_an_read_f64(p->f, p->fname, dset, &m, d, &r, err);
    if (rc)
        return rc;
    size_t C = d[0];
    if (r != 2 || d[1] != C || C < 1 || C > 100) {
        free(m);
        return SNN_OK;
    }
    cairo_surface_t *sf;
    int S = SNN_PLOT_CONF;
    cairo_t *cr = new_canvas(&sf, S, S);
    frame f = {100, 60, S - 140, S - 140, -0.5, (double)C - 0.5, -0.5, (double)C - 0.5};
    double cw = f.w / (double)C, total = 0.0, diag = 0.0;
    for (size_t i = 0; i < C; i++) {
        double row = 0.0;
        for (size_t j = 0; j < C; j++)
            row += m[i * C + j];
        total += row;
        diag += m[i * C + i];
        for (size_t j = 0; j < C; j++) {
            double g = row > 0 ? m[i * C + j] / row : 0.0;
            /* row i = true class, drawn top to bottom; column j = prediction. */
            cairo_set_source_rgb(cr, 1.0 - 0.9 * g, 1.0 - 0.6 * g, 1.0 - 0.2 * g);
            cairo_rectangle(cr, f.x + (double)j * cw, f.y + (double)i * cw, cw, cw);
            cairo_fill(cr);
            if (C <= 20) {
                char buf[32];
                snprintf(buf, sizeof buf, "%.0f", m[i * C + j]);
                cairo_set_source_rgb(cr, g > 0.5 ? 1 : 0, g > 0.5 ? 1 : 0, g > 0.5 ? 1 : 0);
                setup_text(cr, 11);
                text_at(cr, f.x + ((double)j + 0.5) * cw, f.y + ((double)i + 0.5) * cw, buf, 0.5,
                        0.5);
            }
        }
    }
    /* Axes: the frame's y runs bottom-up, so label rows explicitly. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, f.x + 0.5, f.y + 0.5, f.w, f.h);
    cairo_stroke(cr);
    setup_text(cr, 12);
    for (size_t k = 0; k < C; k++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%zu", k);
        text_at(cr, f.x + ((double)k + 0.5) * cw, f.y + f.h + 8, buf, 0.5, 0.0);
        text_at(cr, f.x - 8, f.y + ((double)k + 0.5) * cw, buf, 1.0, 0.5);
    }
    setup_text(cr, 14);
    text_at(cr, f.x + f.w / 2, f.y + f.h + 30, "predicted class", 0.5, 0.0);
    cairo_save(cr);
    cairo_translate(cr, f.x - 45, f.y + f.h / 2);
    cairo_rotate(cr, -PI / 2);
    text_at(cr, 0, 0, "true class", 0.5, 0.5);
    cairo_restore(cr);
    char title[200];
    snprintf(title, sizeof title, "Confusion matrix, %s: accuracy %.2f%% of %.0f", what,
             total > 0 ? 100.0 * diag / total : 0.0, total);
    setup_text(cr, 16);
    text_at(cr, S / 2.0, 20, title, 0.5, 0.0);
    free(m);
    return save(p, cr, sf, name, "confusion matrix", err);
}

static int plot_emergence(pctx *p, snn_err *err)
{
    char **pops;
    size_t np;
    int rc = snn_an_list(p->f, "/analysis/emergence", &pops, &np, err);
    if (rc || !np)
        return rc;
    size_t ns = 0;
    double *x = read_vec(p, "/analysis/emergence/samples", &ns);
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, SNN_PLOT_W, SNN_PLOT_H);
    double pw = (SNN_PLOT_W - 240) / 2.0;
    frame fa = {100, 60, pw, SNN_PLOT_H - 140, INFINITY, -INFINITY, 0.0, 1.05};
    frame fs = {100 + pw + 110, 60, pw, SNN_PLOT_H - 140, 0, 0, 0.0, 1.05};
    static const char *const acc[2] = {"linear_probe_accuracy", "knn_accuracy"};
    static const char *const spa[3] = {"population_sparsity", "lifetime_sparsity",
                                       "mean_selectivity"};
    const char *leg_a[12], *leg_s[18];
    char lbuf[30][300];
    size_t na = 0, nsp = 0, nl = 0, drawn = 0;
    /* Two passes: ranges, then lines. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < np; k++) {
            for (int q = 0; q < 5; q++) {
                char path[1200];
                const char *nm = q < 2 ? acc[q] : spa[q - 2];
                snprintf(path, sizeof path, "/analysis/emergence/%s/%s", pops[k], nm);
                size_t n;
                double *y = read_vec(p, path, &n);
                if (!y)
                    continue;
                const double *xx = x && ns == n ? x : NULL;
                if (pass == 0) {
                    if (xx) {
                        range_of(xx, n, &fa.x0, &fa.x1);
                    } else {
                        fa.x0 = fa.x0 < 0 ? fa.x0 : 0;
                        fa.x1 = (double)n - 1 > fa.x1 ? (double)n - 1 : fa.x1;
                    }
                } else if (q < 2 && na < 6) {
                    draw_series(cr, &fa, xx, y, n, palette[na % 6]);
                    snprintf(lbuf[nl], sizeof lbuf[nl], "%s %s", pops[k],
                             q == 0 ? "linear probe" : "kNN");
                    leg_a[na++] = lbuf[nl++];
                    drawn++;
                } else if (q >= 2 && nsp < 6) {
                    draw_series(cr, &fs, xx, y, n, palette[nsp % 6]);
                    snprintf(lbuf[nl], sizeof lbuf[nl], "%s %s", pops[k], nm);
                    leg_s[nsp++] = lbuf[nl++];
                    drawn++;
                }
                free(y);
            }
            if (pass == 0 && k == np - 1) {
                fix_range(&fa.x0, &fa.x1);
                fs.x0 = fa.x0;
                fs.x1 = fa.x1;
            }
        }
    const char *xl = x ? "training samples seen" : "snapshot";
    draw_frame(cr, &fa, "Emergence: decodability", xl, "accuracy (fraction)");
    draw_frame(cr, &fs, "Emergence: sparsity and selectivity", xl,
               "sparsity (1 = dense), selectivity");
    legend(cr, &fa, leg_a, na);
    legend(cr, &fs, leg_s, nsp);
    free(x);
    snn_an_names_free(pops, np);
    if (!drawn) {
        cairo_destroy(cr);
        cairo_surface_destroy(sf);
        return SNN_OK;
    }
    return save(p, cr, sf, "emergence.png", "emergence curves from snn analyze", err);
}

/* Guided learning (/ghl/<proj>): the guiding readout's batch accuracy, and
   (rule ghl) the fractions of each batch's local updates the global sign
   reversed or gated, against training samples seen. */
static int plot_guidance(pctx *p, const char *proj, snn_err *err)
{
    snn_an_guidance g;
    int rc = snn_an_read_guidance(p->f, p->fname, proj, &g, err);
    if (rc || !g.n) {
        snn_an_guidance_clear(&g);
        return rc;
    }
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, SNN_PLOT_W, SNN_PLOT_H);
    double pw = (SNN_PLOT_W - 240) / 2.0;
    frame fa = {100, 60, pw, SNN_PLOT_H - 140, INFINITY, -INFINITY, 0.0, 1.05};
    range_of(g.samples, g.n, &fa.x0, &fa.x1);
    fa.x0 = 0.0;
    fix_range(&fa.x0, &fa.x1);
    frame ff = {100 + pw + 110, 60, pw, SNN_PLOT_H - 140, fa.x0, fa.x1, 0.0, 1.05};
    draw_series(cr, &fa, g.samples, g.accuracy, g.n, palette[0]);
    draw_frame(cr, &fa, "Guiding readout (batch, before its steps)", "training samples seen",
               "accuracy (fraction)");
    if (g.ghl) {
        draw_series(cr, &ff, g.samples, g.reversed, g.n, palette[0]);
        draw_series(cr, &ff, g.samples, g.gated, g.n, palette[1]);
        draw_frame(cr, &ff, "Local updates steered by the global sign", "training samples seen",
                   "fraction of the batch's updates");
        const char *const leg[2] = {"reversed", "gated"};
        legend(cr, &ff, leg, 2);
    } else {
        draw_frame(cr, &ff, "(three_factor: modulators, no reversals)", "training samples seen",
                   "fraction");
    }
    snn_an_guidance_clear(&g);
    char name[600];
    snprintf(name, sizeof name, "ghl_%s.png", proj);
    return save(p, cr, sf, name, "guided learning per mini-batch", err);
}

static int plot_alignment(pctx *p, snn_err *err)
{
    char **ds;
    size_t n;
    int rc = snn_an_list(p->f, "/readout/alignment", &ds, &n, err);
    if (rc || !n)
        return rc;
    size_t nst = 0;
    double *step = read_vec(p, "/readout/alignment/step", &nst);
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, SNN_PLOT_W, SNN_PLOT_H);
    frame f = {100, 60, SNN_PLOT_W - 160, SNN_PLOT_H - 140, INFINITY, -INFINITY, INFINITY,
               -INFINITY};
    double *y[6] = {0};
    size_t ny[6], m = 0;
    const char *leg[6];
    for (size_t k = 0; k < n && m < 6; k++) {
        if (!strcmp(ds[k], "step"))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "/readout/alignment/%s", ds[k]);
        if (!(y[m] = read_vec(p, path, &ny[m])))
            continue;
        range_of(y[m], ny[m], &f.y0, &f.y1);
        if (step && nst == ny[m])
            range_of(step, nst, &f.x0, &f.x1);
        else
            range_of((double[2]){0, (double)ny[m]}, 2, &f.x0, &f.x1);
        leg[m++] = ds[k];
    }
    fix_range(&f.x0, &f.x1);
    fix_range(&f.y0, &f.y1);
    f.y0 = f.y0 > -1 ? (f.y0 < 0 ? f.y0 : 0.0) : -1.0;
    f.y1 = f.y1 < 1 ? (f.y1 > 0 ? f.y1 : 0.0) : 1.0;
    f.y1 = fmin(1.0, f.y1 + 0.05 * (f.y1 - f.y0));
    if (!(f.y1 > f.y0))
        f.y1 = f.y0 + 1.0;
    for (size_t k = 0; k < m; k++)
        draw_series(cr, &f, step && nst == ny[k] ? step : NULL, y[k], ny[k], palette[k]);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    if (f.y0 < 0 && f.y1 > 0) {
        cairo_move_to(cr, f.x, fy(&f, 0.0));
        cairo_line_to(cr, f.x + f.w, fy(&f, 0.0));
        cairo_stroke(cr);
    }
    draw_frame(cr, &f, "Hebbian alignment of the readout's weight updates",
               step ? "training step" : "update", "cos(update, Hebbian term)");
    legend(cr, &f, leg, m);
    for (size_t k = 0; k < m; k++)
        free(y[k]);
    free(step);
    snn_an_names_free(ds, n);
    if (!m) {
        cairo_destroy(cr);
        cairo_surface_destroy(sf);
        return SNN_OK;
    }
    return save(p, cr, sf, "alignment.png", "readout alignment curves", err);
}

/* ---- alignment curves of several files ------------------------------------- */

enum { AL_MAXL = 5 };

typedef struct al_file {
    char label[128];
    size_t L;                 /* weight matrices W0..W{L-1} */
    double *y[AL_MAXL], *x;   /* cosines (smoothed) and their x values */
    size_t n[AL_MAXL], nx;
} al_file;

static void al_file_clear(al_file *a)
{
    for (size_t l = 0; l < AL_MAXL; l++)
        free(a->y[l]);
    free(a->x);
    memset(a, 0, sizeof *a);
}

/* Centred running mean over w entries (NaNs skipped; NaN where all are). */
static int smooth_in_place(double *v, size_t n, size_t w)
{
    if (w <= 1 || n == 0)
        return SNN_OK;
    double *t = malloc(n * sizeof *t);
    if (!t)
        return SNN_ENOMEM;
    size_t h = w / 2;
    for (size_t i = 0; i < n; i++) {
        size_t a = i >= h ? i - h : 0, b = i + (w - 1 - h) < n ? i + (w - 1 - h) : n - 1;
        double s = 0.0;
        size_t k = 0;
        for (size_t j = a; j <= b; j++)
            if (isfinite(v[j])) {
                s += v[j];
                k++;
            }
        t[i] = k ? s / (double)k : NAN;
    }
    memcpy(v, t, n * sizeof *t);
    free(t);
    return SNN_OK;
}

static int al_read(const char *path, size_t smooth, al_file *a, snn_err *err)
{
    memset(a, 0, sizeof *a);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 3 && !strcmp(base + len - 3, ".h5"))
        len -= 3;
    snprintf(a->label, sizeof a->label, "%.*s", (int)len, base);
    pctx p = {.fname = path, .f = H5I_INVALID_HID};
    int rc = snn_an_open(path, 0, &p.f, err);
    if (rc)
        return rc;
    for (size_t l = 0; l < AL_MAXL; l++) {
        char ds[64];
        snprintf(ds, sizeof ds, "/readout/alignment/W%zu", l);
        if (!(a->y[l] = read_vec(&p, ds, &a->n[l])))
            break;
        a->L = l + 1;
        if ((rc = smooth_in_place(a->y[l], a->n[l], smooth))) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
            break;
        }
    }
    a->x = read_vec(&p, "/readout/alignment/step", &a->nx);
    H5Fclose(p.f);
    if (!rc && !a->L)
        rc = snn_err_set(err, SNN_EIO,
                         "%s: no /readout/alignment/W0 (train the readout with "
                         "record_alignment = true)",
                         path);
    return rc;
}

int snn_plot_alignment(const char *const *paths, size_t n, const char *dir, size_t smooth,
                       FILE *out, snn_err *err)
{
    if (!out)
        SNN_FAIL(err, SNN_EINTERNAL, "snn_plot_alignment: NULL output stream");
    if (n == 0)
        SNN_FAIL(err, SNN_ECFG, "plot --alignment: no files given");
    if (n > SNN_PLOT_AL_FILES)
        SNN_FAIL(err, SNN_ECFG, "plot --alignment: %zu files, at most %d (one colour each)", n,
                 SNN_PLOT_AL_FILES);
    if (!dir || !dir[0])
        dir = ".";
    al_file af[SNN_PLOT_AL_FILES];
    memset(af, 0, sizeof af);
    int rc = SNN_OK;
    size_t got = 0, P = 0;
    for (; got < n && !rc; got++) {
        if ((rc = al_read(paths[got], smooth, &af[got], err)))
            break;
        P = af[got].L > P ? af[got].L : P;
        for (size_t k = 0; !rc && k < got; k++)
            if (!strcmp(af[k].label, af[got].label))
                rc = snn_err_set(err, SNN_ECFG,
                                 "plot --alignment: two files are labelled '%s' (%s, %s); "
                                 "rename one",
                                 af[got].label, paths[k], paths[got]);
    }
    if (rc) {
        for (size_t k = 0; k <= got && k < n; k++)
            al_file_clear(&af[k]);
        return rc;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 && mkdir(dir, 0777) != 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto out;
    }
    /* Common axes: x over every file's steps, y over every cosine. */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < n; k++)
        for (size_t l = 0; l < af[k].L; l++) {
            range_of(af[k].y[l], af[k].n[l], &y0, &y1);
            if (af[k].x && af[k].nx == af[k].n[l])
                range_of(af[k].x, af[k].nx, &x0, &x1);
            else
                range_of((double[2]){0, (double)af[k].n[l]}, 2, &x0, &x1);
        }
    fix_range(&x0, &x1);
    fix_range(&y0, &y1);
    y0 = y0 > -1 ? (y0 < 0 ? y0 : 0.0) : -1.0;
    y1 = y1 < 1 ? (y1 > 0 ? y1 : 0.0) : 1.0;
    y1 = fmin(1.0, y1 + 0.05 * (y1 - y0));
    if (!(y1 > y0))
        y1 = y0 + 1.0;
    int W = (int)P * SNN_PLOT_AL_PANEL + 2 * SNN_PLOT_AL_MARGIN;
    cairo_surface_t *sf;
    cairo_t *cr = new_canvas(&sf, W, SNN_PLOT_H);
    const char *leg[SNN_PLOT_AL_FILES];
    for (size_t k = 0; k < n; k++)
        leg[k] = af[k].label;
    for (size_t l = 0; l < P; l++) {
        frame f = {SNN_PLOT_AL_MARGIN + (double)l * SNN_PLOT_AL_PANEL + 80, 60,
                   SNN_PLOT_AL_PANEL - 110, SNN_PLOT_H - 140, x0, x1, y0, y1};
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_set_line_width(cr, 1.0);
        if (y0 < 0 && y1 > 0) {
            cairo_move_to(cr, f.x, fy(&f, 0.0));
            cairo_line_to(cr, f.x + f.w, fy(&f, 0.0));
            cairo_stroke(cr);
        }
        for (size_t k = 0; k < n; k++)
            if (l < af[k].L)
                draw_series(cr, &f, af[k].x && af[k].nx == af[k].n[l] ? af[k].x : NULL,
                            af[k].y[l], af[k].n[l], palette[k]);
        char title[96];
        if (smooth > 1)
            snprintf(title, sizeof title, "W%zu (running mean over %zu updates)", l, smooth);
        else
            snprintf(title, sizeof title, "W%zu", l);
        draw_frame(cr, &f, title, "training step",
                   l == 0 ? "cos(weight update, Hebbian term)" : NULL);
        if (l + 1 == P)
            legend(cr, &f, leg, n);
    }
    pctx p = {.dir = dir, .out = out};
    rc = save(&p, cr, sf, "alignment.png", "alignment curves of the files overlaid", err);
out:
    for (size_t k = 0; k < n; k++)
        al_file_clear(&af[k]);
    return rc;
}

int snn_plot(const char *path, const char *dir, const snn_plot_opts *o, FILE *out,
             size_t *n_made, snn_err *err)
{
    if (n_made)
        *n_made = 0;
    if (!out)
        SNN_FAIL(err, SNN_EINTERNAL, "snn_plot: NULL output stream");
    snn_plot_opts def = {0};
    if (!o)
        o = &def;
    if (!dir || !dir[0])
        dir = ".";
    pctx p = {.fname = path, .dir = dir, .out = out, .f = H5I_INVALID_HID};
    int rc = snn_an_open(path, 0, &p.f, err);
    if (rc)
        return rc;
    char **pops = NULL, **projs = NULL, **ghl = NULL;
    size_t npops = 0, nprojs = 0, nghl = 0;
    if ((rc = snn_an_spike_pops(p.f, &pops, &npops, err)) ||
        (rc = snn_an_list(p.f, "/weights", &projs, &nprojs, err)) ||
        (rc = snn_an_list(p.f, "/ghl", &ghl, &nghl, err)))
        goto out;
    if (!npops && !nprojs && !nghl && !snn_an_exists(p.f, "/readout") &&
        !snn_an_exists(p.f, "/results") && !snn_an_exists(p.f, "/analysis")) {
        rc = snn_err_set(err, SNN_EIO,
                         "%s: nothing to plot: no spikes (/spikes/<pop>/timestamps), weights, "
                         "readout, results or analysis",
                         path);
        goto out;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 && mkdir(dir, 0777) != 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto out;
    }
    for (size_t k = 0; !rc && k < npops; k++)
        rc = plot_raster(&p, pops[k], err);
    for (size_t k = 0; !rc && k < nprojs; k++) {
        wsnap ws;
        if ((rc = read_weights(&p, projs[k], &ws, err)) || !ws.S)
            continue;
        rc = plot_rf(&p, projs[k], &ws, ws.S - 1, 0, err);
        for (size_t s = 0; !rc && o->all_snapshots && s < ws.S; s++)
            rc = plot_rf(&p, projs[k], &ws, s, 1, err);
        if (!rc)
            rc = plot_whist(&p, projs[k], &ws, err);
        wsnap_clear(&ws);
    }
    if (!rc)
        rc = plot_curves(&p, err);
    if (!rc)
        rc = plot_confusion(&p, "/results/vote/confusion", "confusion_vote.png",
                            "vote (Diehl & Cook labels)", err);
    if (!rc)
        rc = plot_confusion(&p, "/readout/results/confusion", "confusion_readout.png",
                            "readout", err);
    if (!rc)
        rc = plot_emergence(&p, err);
    if (!rc)
        rc = plot_alignment(&p, err);
    for (size_t k = 0; !rc && k < nghl; k++)
        rc = plot_guidance(&p, ghl[k], err);
    if (!rc && !p.made)
        fprintf(out, "no figures: the file holds no plottable data\n");
out:
    if (n_made)
        *n_made = p.made;
    snn_an_names_free(pops, npops);
    snn_an_names_free(projs, nprojs);
    snn_an_names_free(ghl, nghl);
    H5Fclose(p.f);
    return rc;
}
