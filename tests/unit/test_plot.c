/*
 * tests/unit/test_plot.c: `snn plot` on small synthetic HDF5 files.  Every
 * figure is read back with cairo: a valid PNG of the documented size that is
 * not blank; the receptive-field grid puts each weight where it belongs;
 * figures whose data is absent are not made; missing, non-HDF5 and empty
 * files and an unusable output directory give clear errors; the alignment
 * overlay of several files draws each file's curve where it belongs.
 */
#include "../support.h"

#include <cairo.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/plot.h"

static hid_t new_file(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static void put(hid_t f, const char *path, hid_t ftype, hid_t mtype, int rank,
                const hsize_t *dims, const void *v)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
}

static void put_f64(hid_t f, const char *path, const double *v, hsize_t n)
{
    put(f, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v);
}

static void put_u64(hid_t f, const char *path, const uint64_t *v, hsize_t n)
{
    put(f, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &n, v);
}

static void put_attr_str(hid_t f, const char *obj, const char *name, const char *v)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    H5Awrite(a, st, v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
}

/* Spikes of another simulator: SONATA, seconds, sorted by id, no /populations. */
static void put_sonata(hid_t f)
{
    enum { N = 30, K = 20 };
    double t[N * K];
    uint64_t id[N * K];
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < K; k++) {
            t[i * K + k] = 0.05 * (double)k + 0.001 * (double)i; /* s */
            id[i * K + k] = i;
        }
    put_f64(f, "/spikes/v1/timestamps", t, N * K);
    put_u64(f, "/spikes/v1/node_ids", id, N * K);
    put_attr_str(f, "/spikes/v1", "sorting", "by_id");
    put_attr_str(f, "/spikes/v1/timestamps", "units", "s");
}

enum { NPRE = 784, NPOST = 9, S = 3 };

static void make_file(const char *path)
{
    hid_t f = new_file(path);
    /* exc: neuron i fires every (i + 1) ms for 100 ms. */
    double t[4000];
    uint64_t id[4000];
    size_t m = 0;
    for (size_t i = 0; i < 20; i++)
        for (double x = 0; x < 100.0; x += (double)(i + 1)) {
            t[m] = x;
            id[m++] = i;
        }
    put_f64(f, "/spikes/exc/timestamps", t, m);
    put_u64(f, "/spikes/exc/node_ids", id, m);
    put_sonata(f);
    /* Weights: at the last snapshot neuron j has weight 1 only on input
       pixel (row 0, column j) and 0.5 on pixel (27, 27); earlier snapshots
       uniform 0.25. */
    static double w[S * NPRE * NPOST];
    for (size_t s = 0; s < S; s++)
        for (size_t e = 0; e < NPRE * NPOST; e++)
            w[s * NPRE * NPOST + e] = s + 1 < S ? 0.25 : 0.0;
    for (size_t j = 0; j < NPOST; j++) {
        w[(S - 1) * NPRE * NPOST + j * NPOST + j] = 1.0;
        w[(S - 1) * NPRE * NPOST + (27 * 28 + 27) * NPOST + j] = 0.5;
    }
    hsize_t dw[3] = {S, NPRE, NPOST};
    put(f, "/weights/input/values", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dw, w);
    const double wt[S] = {0, 1000, 2000};
    put_f64(f, "/weights/input/times", wt, S);
    const uint64_t ws[S] = {0, 500, 1000};
    put_u64(f, "/weights/input/samples", ws, S);
    /* Readout curves, confusion matrices, emergence, alignment. */
    const double loss[5] = {2.3, 1.2, 0.8, 0.6, 0.5}, tra[5] = {0.2, 0.6, 0.8, 0.85, 0.9},
                 tea[5] = {0.2, 0.55, 0.7, 0.8, 0.82};
    put_f64(f, "/readout/curves/loss", loss, 5);
    put_f64(f, "/readout/curves/train_accuracy", tra, 5);
    put_f64(f, "/readout/curves/test_accuracy", tea, 5);
    uint32_t conf[100];
    for (size_t k = 0; k < 100; k++)
        conf[k] = k % 11 == 0 ? 90 : 1;
    hsize_t dc[2] = {10, 10};
    put(f, "/results/vote/confusion", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, dc, conf);
    const double rc3[9] = {5, 1, 0, 0, 6, 0, 1, 0, 7};
    hsize_t d3[2] = {3, 3};
    put(f, "/readout/results/confusion", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d3, rc3);
    const uint64_t smp[4] = {0, 100, 200, 300};
    const double lp[4] = {0.1, 0.5, 0.7, 0.8}, kn[4] = {0.1, 0.4, 0.6, 0.75},
                 ps[4] = {1.0, 0.5, 0.3, 0.2};
    put_u64(f, "/analysis/emergence/samples", smp, 4);
    put_f64(f, "/analysis/emergence/exc/linear_probe_accuracy", lp, 4);
    put_f64(f, "/analysis/emergence/exc/knn_accuracy", kn, 4);
    put_f64(f, "/analysis/emergence/exc/population_sparsity", ps, 4);
    const double al[6] = {0.1, 0.3, 0.2, 0.5, 0.4, 0.6};
    const uint64_t st[6] = {10, 20, 30, 40, 50, 60};
    put_f64(f, "/readout/alignment/W0", al, 6);
    put_f64(f, "/readout/alignment/W1", lp, 4); /* shorter than step: plotted by index */
    put_u64(f, "/readout/alignment/step", st, 6);
    H5Fclose(f);
}

/* Load dir/name; check size w x h and that it is not blank (at least 1 % of
   the pixels differ from the background and there are dark pixels too). */
static cairo_surface_t *check_png(const char *dir, const char *name, int w, int h)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        fail_msg("%s: %s", path, cairo_status_to_string(cairo_surface_status(s)));
    assert_int_equal(cairo_image_surface_get_width(s), w);
    assert_int_equal(cairo_image_surface_get_height(s), h);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    size_t ink = 0, dark = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t v = ((const uint32_t *)(px + (size_t)y * (size_t)stride))[x] & 0xffffff;
            ink += v != 0xffffff;
            dark += (v & 0xff) < 0x40 && ((v >> 8) & 0xff) < 0x40 && ((v >> 16) & 0xff) < 0x40;
        }
    if (!(ink > (size_t)w * (size_t)h / 100) || !dark)
        fail_msg("%s looks blank: %zu non-white, %zu dark pixels of %d", path, ink, dark, w * h);
    return s;
}

static uint32_t pixel(cairo_surface_t *s, int x, int y)
{
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    return ((const uint32_t *)(px + (size_t)y * (size_t)stride))[x] & 0xffffff;
}

/* Pixels in [x0, x1) x [y0, y1) that are dark (all channels < 0x40) or,
   with blue != 0, clearly blue (the first series colour). */
static size_t count_in(cairo_surface_t *s, int x0, int y0, int x1, int y1, int blue)
{
    size_t n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            uint32_t v = pixel(s, x, y);
            int r = (int)(v >> 16) & 0xff, g = (int)(v >> 8) & 0xff, b = (int)v & 0xff;
            n += blue ? b > 0x90 && r < 0x60 && g < 0xa0 : r < 0x40 && g < 0x40 && b < 0x40;
        }
    return n;
}

static void test_all_figures(void **state)
{
    (void)state;
    const char *path = "plot_all.h5", *dir = "plot_all_out";
    make_file(path);
    char *buf = NULL;
    size_t len = 0, made;
    FILE *out = open_memstream(&buf, &len);
    snn_err err;
    snn_plot_opts o = {0};
    int rc = snn_plot(path, dir, &o, out, &made, &err);
    fclose(out);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(made, 9);
    static const char *const names[9] = {
        "raster_exc.png",      "raster_v1.png",         "rf_input.png",
        "weights_input.png",   "learning_curves.png",   "confusion_vote.png",
        "confusion_readout.png", "emergence.png",       "alignment.png"};
    for (int k = 0; k < 9; k++) {
        char line[256];
        snprintf(line, sizeof line, "made: %s/%s", dir, names[k]);
        if (!strstr(buf, line))
            fail_msg("'%s' not in the report:\n%s", line, buf);
    }
    free(buf);
    /* The raster's dots sit inside the upper panel (x 90..930, y 50..387),
       the rate line (blue) inside the lower one (y 417..580). */
    cairo_surface_t *r = check_png(dir, "raster_exc.png", SNN_PLOT_W, SNN_PLOT_H);
    size_t dots = count_in(r, 100, 60, 900, 330, 0);
    if (dots < 300)
        fail_msg("only %zu dark pixels in the raster panel", dots);
    assert_true(count_in(r, 100, 420, 900, 570, 1) > 100);
    assert_int_equal(count_in(r, 100, 60, 900, 330, 1), 0);
    cairo_surface_destroy(r);
    cairo_surface_destroy(check_png(dir, "raster_v1.png", SNN_PLOT_W, SNN_PLOT_H));
    cairo_surface_destroy(check_png(dir, "weights_input.png", SNN_PLOT_W, SNN_PLOT_H));
    /* Loss line (blue) inside the left panel. */
    r = check_png(dir, "learning_curves.png", SNN_PLOT_W, SNN_PLOT_H);
    assert_true(count_in(r, 102, 62, 460, 558, 1) > 100);
    cairo_surface_destroy(r);
    cairo_surface_destroy(check_png(dir, "emergence.png", SNN_PLOT_W, SNN_PLOT_H));
    cairo_surface_destroy(check_png(dir, "alignment.png", SNN_PLOT_W, SNN_PLOT_H));
    cairo_surface_destroy(check_png(dir, "confusion_vote.png", SNN_PLOT_CONF, SNN_PLOT_CONF));
    cairo_surface_destroy(check_png(dir, "confusion_readout.png", SNN_PLOT_CONF, SNN_PLOT_CONF));

    /* Receptive fields: 3 x 3 grid of 28 x 28 fields at 2 px per input. */
    int w, h;
    assert_int_equal(snn_plot_rf_size(NPRE, NPOST, &w, &h), 1);
    const int cell = 56, step = cell + SNN_PLOT_RF_GAP;
    assert_int_equal(h, 3 * step + 110);
    cairo_surface_t *s = check_png(dir, "rf_input.png", w, h);
    for (int j = 0; j < NPOST; j++) {
        int x0 = SNN_PLOT_RF_X0 + (j % 3) * step, y0 = SNN_PLOT_RF_Y0 + (j / 3) * step;
        /* Input (0, j): weight 1 = the maximum -> black, 2 x 2 pixels. */
        assert_int_equal(pixel(s, x0 + 2 * j, y0), 0x000000);
        assert_int_equal(pixel(s, x0 + 2 * j + 1, y0 + 1), 0x000000);
        /* Input (27, 27): weight 0.5 -> mid grey (128 = round(255 * 0.5)). */
        assert_int_equal(pixel(s, x0 + 54, y0 + 55), 0x808080);
        /* Input (10, 10): weight 0 -> white. */
        assert_int_equal(pixel(s, x0 + 20, y0 + 20), 0xffffff);
    }
    cairo_surface_destroy(s);
    assert_int_equal(snn_plot_rf_size(783, 9, &w, &h), 0); /* not a square */

    /* One grid per snapshot too. */
    out = fopen("/dev/null", "w");
    o.all_snapshots = 1;
    assert_int_equal(snn_plot(path, dir, &o, out, &made, &err), SNN_OK);
    fclose(out);
    assert_int_equal(made, 9 + S);
    assert_int_equal(snn_plot_rf_size(NPRE, NPOST, &w, &h), 1);
    s = check_png(dir, "rf_input_0.png", w, h);
    /* Snapshot 0 is uniform 0.25; the grey scale runs from 0, so 0.25 is
       its maximum: black. */
    assert_int_equal(pixel(s, SNN_PLOT_RF_X0 + 20, SNN_PLOT_RF_Y0 + 20), 0x000000);
    cairo_surface_destroy(s);
    remove(path);
}

static void test_sonata_only(void **state)
{
    (void)state;
    const char *path = "plot_sonata.h5", *dir = "plot_sonata_out";
    hid_t f = new_file(path);
    put_sonata(f);
    H5Fclose(f);
    FILE *out = fopen("/dev/null", "w");
    size_t made;
    snn_err err;
    int rc = snn_plot(path, dir, NULL, out, &made, &err);
    fclose(out);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(made, 1);
    cairo_surface_destroy(check_png(dir, "raster_v1.png", SNN_PLOT_W, SNN_PLOT_H));
    char p[256];
    snprintf(p, sizeof p, "%s/rf_input.png", dir);
    assert_int_equal(access(p, F_OK), -1);
    remove(path);

    /* The older SONATA layout without populations: /spikes/{timestamps, gids}. */
    f = new_file(path);
    const double t[4] = {1.0, 2.0, 3.0, 4.0};
    const uint64_t g[4] = {0, 3, 1, 2};
    put_f64(f, "/spikes/timestamps", t, 4);
    put_u64(f, "/spikes/gids", g, 4);
    H5Fclose(f);
    out = fopen("/dev/null", "w");
    rc = snn_plot(path, dir, NULL, out, &made, &err);
    fclose(out);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(made, 1);
    cairo_surface_destroy(check_png(dir, "raster_spikes.png", SNN_PLOT_W, SNN_PLOT_H));
    remove(path);
}

static void test_errors(void **state)
{
    (void)state;
    snn_err err;
    FILE *out = fopen("/dev/null", "w");
    assert_int_equal(snn_plot("plot_missing.h5", "plot_err_out", NULL, out, NULL, &err),
                     SNN_EIO);
    assert_non_null(strstr(err.msg, "plot_missing.h5: No such file"));

    FILE *t = fopen("plot_text.h5", "w");
    fputs("plain text\n", t);
    fclose(t);
    assert_int_equal(snn_plot("plot_text.h5", "plot_err_out", NULL, out, NULL, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "not an HDF5 file"));

    hid_t f = new_file("plot_empty.h5");
    hsize_t one = 1;
    const double x = 1.0;
    put(f, "/something", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &one, &x);
    H5Fclose(f);
    size_t made = 7;
    assert_int_equal(snn_plot("plot_empty.h5", "plot_err_out", NULL, out, &made, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "nothing to plot"));
    assert_int_equal(made, 0);
    struct stat sb;
    assert_int_not_equal(stat("plot_err_out", &sb), 0); /* nothing created */

    /* The output directory cannot be made under a regular file. */
    f = new_file("plot_dir.h5");
    put_sonata(f);
    H5Fclose(f);
    assert_int_equal(snn_plot("plot_dir.h5", "plot_text.h5/sub", NULL, out, NULL, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "plot_text.h5/sub"));
    remove("plot_dir.h5");
    remove("plot_text.h5");
    remove("plot_empty.h5");
    fclose(out);
}

/* A result file holding only an alignment record: W0 constant at c0 and,
   with two layers, W1 constant at c1, over steps 1..n. */
static void make_alignment(const char *path, size_t n, double c0, int two, double c1)
{
    hid_t f = new_file(path);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint64_t *st = malloc(n * sizeof *st);
    for (size_t i = 0; i < n; i++) {
        a[i] = c0;
        b[i] = c1;
        st[i] = i + 1;
    }
    a[n / 2] = NAN; /* an update with a zero Hebbian term */
    put_f64(f, "/readout/alignment/W0", a, n);
    if (two)
        put_f64(f, "/readout/alignment/W1", b, n);
    put_u64(f, "/readout/alignment/step", st, n);
    H5Fclose(f);
    free(a);
    free(b);
    free(st);
}

/* Pixels in column x, rows [y0, y1), of colour c (within 0x30 per channel). */
static size_t colour_in_column(cairo_surface_t *s, int x, int y0, int y1, uint32_t c)
{
    size_t n = 0;
    for (int y = y0; y < y1; y++) {
        uint32_t v = pixel(s, x, y);
        int ok = 1;
        for (int sh = 0; sh < 24; sh += 8) {
            int d = (int)((v >> sh) & 0xff) - (int)((c >> sh) & 0xff);
            ok &= d > -0x30 && d < 0x30;
        }
        n += ok;
    }
    return n;
}

/*
 * Overlay of three files (two with W0 and W1, one with W0 only): a PNG of
 * two panels, each curve a horizontal line in its file's colour at the
 * height its constant cosine maps to.  The y range is common: from
 * min(0, lowest) to the highest plus 5 % headroom, here [-0.5, 0.8 + 0.065].
 */
static void test_alignment_overlay(void **state)
{
    (void)state;
    const char *dir = "plot_al_out";
    make_alignment("plot_al_sgd.h5", 200, 0.8, 1, 0.3);
    make_alignment("plot_al_noise.h5", 200, -0.5, 1, -0.2);
    make_alignment("plot_al_w0only.h5", 200, 0.1, 0, 0.0);
    const char *files[3] = {"plot_al_sgd.h5", "plot_al_noise.h5", "plot_al_w0only.h5"};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    snn_err err;
    assert_int_equal(snn_plot_alignment(files, 3, dir, 5, out, &err), SNN_OK);
    fclose(out);
    assert_non_null(strstr(buf, "plot_al_out/alignment.png"));
    free(buf);
    int W = 2 * SNN_PLOT_AL_PANEL + 2 * SNN_PLOT_AL_MARGIN;
    cairo_surface_t *png = check_png(dir, "alignment.png", W, SNN_PLOT_H);
    /* Data -> pixel, as io/plot.h documents the panel boxes. */
    double y0 = -0.5, y1 = 0.8 + 0.05 * 1.3, top = 60, h = SNN_PLOT_H - 140;
    const uint32_t blue = 0x1f77b4, orange = 0xff7f0e, green = 0x2ca02c;
    struct { int panel; double v; uint32_t c; int present; } want[] = {
        {0, 0.8, blue, 1}, {0, -0.5, orange, 1}, {0, 0.1, green, 1},
        {1, 0.3, blue, 1}, {1, -0.2, orange, 1}, {1, 0.1, green, 0},
    };
    for (size_t k = 0; k < 6; k++) {
        /* A column a quarter into the panel's box (left of the legend). */
        int x = SNN_PLOT_AL_MARGIN + want[k].panel * SNN_PLOT_AL_PANEL + 80 +
                (SNN_PLOT_AL_PANEL - 110) / 4;
        int py = (int)(top + h - (want[k].v - y0) / (y1 - y0) * h);
        size_t near = colour_in_column(png, x, py - 3, py + 4, want[k].c);
        size_t all = colour_in_column(png, x, (int)top + 2, (int)(top + h) - 2, want[k].c);
        if (want[k].present) {
            if (!(near >= 1 && all <= near + 2))
                fail_msg("curve %zu: %zu pixels of its colour near y = %d, %zu in the column",
                         k, near, py, all);
        } else {
            assert_int_equal(all, 0);
        }
    }
    cairo_surface_destroy(png);

    /* Errors: a file without alignment, a missing file, a repeated label, too many files. */
    out = fopen("/dev/null", "w");
    hid_t f = new_file("plot_al_none.h5");
    const double x = 1.0;
    put_f64(f, "/readout/curves/loss", &x, 1);
    H5Fclose(f);
    const char *bad[2] = {"plot_al_sgd.h5", "plot_al_none.h5"};
    assert_int_equal(snn_plot_alignment(bad, 2, dir, 1, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "plot_al_none.h5: no /readout/alignment/W0"));
    bad[1] = "plot_al_missing.h5";
    assert_int_equal(snn_plot_alignment(bad, 2, dir, 1, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "plot_al_missing.h5"));
    bad[1] = "./plot_al_sgd.h5";
    assert_int_equal(snn_plot_alignment(bad, 2, dir, 1, out, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "labelled 'plot_al_sgd'"));
    const char *seven[7] = {files[0], files[1], files[2], files[0], files[1], files[2], files[0]};
    assert_int_equal(snn_plot_alignment(seven, 7, dir, 1, out, &err), SNN_ECFG);
    assert_int_equal(snn_plot_alignment(files, 0, dir, 1, out, &err), SNN_ECFG);
    fclose(out);
    remove("plot_al_out/alignment.png");
    rmdir(dir);
    remove("plot_al_sgd.h5");
    remove("plot_al_noise.h5");
    remove("plot_al_w0only.h5");
    remove("plot_al_none.h5");
}

/* Under AddressSanitizer: fontconfig (loaded by cairo's toy text API) keeps
   its configuration and default pattern in static caches that are only
   freed by FcFini(); those one-time allocations are not leaks of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_figures),
        cmocka_unit_test(test_sonata_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alignment_overlay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
