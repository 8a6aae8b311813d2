/*
 * io/analyze_h5.c: reading recorded HDF5 files for `snn analyze` and
 * `snn plot` (whole datasets as double/uint64, attributes, group listings,
 * SONATA spike trains grouped by neuron).  See io/analyze.h.
 */
#include "analyze.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static herr_t why_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    if (n == 0 && e->desc)
        snprintf(buf, 256, "%s", e->desc);
    return 0;
}

static const char *h5_why(char buf[256])
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, why_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf[0] ? buf : "unknown";
}

int snn_an_open(const char *path, int rw, hid_t *f, snn_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    *f = H5I_INVALID_HID;
    if (!path || !path[0])
        SNN_FAIL(err, SNN_EIO, "HDF5 input: empty file name");
    struct stat sb;
    if (stat(path, &sb) != 0)
        SNN_FAIL(err, SNN_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        SNN_FAIL(err, SNN_EIO, "%s: is a directory, not an HDF5 file", path);
    char why[256];
    htri_t is = H5Fis_hdf5(path);
    if (is == 0)
        SNN_FAIL(err, SNN_EIO, "%s: not an HDF5 file", path);
    if (is < 0)
        SNN_FAIL(err, SNN_EIO, "%s: cannot read (HDF5: %s)", path, h5_why(why));
    *f = H5Fopen(path, rw ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*f < 0)
        SNN_FAIL(err, SNN_EIO, "%s: cannot open (HDF5: %s)", path, h5_why(why));
    return SNN_OK;
}

int snn_an_exists(hid_t f, const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, path, n + 1);
    /* Check each prefix "/a", "/a/b", ... so a missing parent is not an error. */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && buf[i] != '/')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        htri_t e = H5Lexists(f, buf, H5P_DEFAULT);
        buf[i] = c;
        if (e <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return 0;
        }
    }
    return 1;
}

static int read_nd(hid_t f, const char *fname, const char *dset, hid_t mtype, size_t esize,
                   void **v, size_t dims[3], int *rank, snn_err *err)
{
    *v = NULL;
    dims[0] = dims[1] = dims[2] = 1;
    *rank = 0;
    char why[256];
    if (!snn_an_exists(f, dset))
        SNN_FAIL(err, SNN_EIO, "%s: no dataset %s", fname, dset);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0)
        SNN_FAIL(err, SNN_EIO, "%s: cannot open %s (HDF5: %s)", fname, dset, h5_why(why));
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    H5T_class_t cls = ty < 0 ? H5T_NO_CLASS : H5Tget_class(ty);
    int rc = SNN_OK;
    int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t hd[3] = {1, 1, 1};
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        rc = snn_err_set(err, SNN_EIO, "%s: %s is not numeric", fname, dset);
        goto out;
    }
    if (r < 0 || r > 3 || H5Sget_simple_extent_dims(sp, hd, NULL) < 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: %s has rank %d (at most 3 expected)", fname, dset,
                         r);
        goto out;
    }
    size_t n = 1;
    for (int i = 0; i < r; i++) {
        dims[i] = (size_t)hd[i];
        if (dims[i] && n > SIZE_MAX / esize / dims[i]) {
            rc = snn_err_set(err, SNN_ENOMEM, "%s: %s is too large", fname, dset);
            goto out;
        }
        n *= dims[i];
    }
    *rank = r;
    if (!(*v = malloc(n ? n * esize : 1))) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory reading %s (%zu values)", fname,
                         dset, n);
        goto out;
    }
    if (n && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) < 0) {
        free(*v);
        *v = NULL;
        rc = snn_err_set(err, SNN_EIO, "%s: cannot read %s (HDF5: %s)", fname, dset,
                         h5_why(why));
    }
out:
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

int snn_an_read_f64(hid_t f, const char *fname, const char *dset, double **v, size_t dims[3],
                    int *rank, snn_err *err)
{
    return read_nd(f, fname, dset, H5T_NATIVE_DOUBLE, sizeof **v, (void **)v, dims, rank, err);
}

int snn_an_read_u64(hid_t f, const char *fname, const char *dset, uint64_t **v,
                    size_t dims[3], int *rank, snn_err *err)
{
    return read_nd(f, fname, dset, H5T_NATIVE_UINT64, sizeof **v, (void **)v, dims, rank, err);
}

int snn_an_attr_num(hid_t f, const char *obj, const char *name, double *v)
{
    if (!snn_an_exists(f, obj) && strcmp(obj, "/"))
        return 0;
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int ok = snn_an_attr_num_at(o, name, v);
    H5Oclose(o);
    return ok;
}

int snn_an_attr_num_at(hid_t obj, const char *name, double *v)
{
    if (H5Aexists(obj, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t ty = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cls = ty < 0 ? H5T_NO_CLASS : H5Tget_class(ty);
    int ok = (cls == H5T_INTEGER || cls == H5T_FLOAT) && sp >= 0 &&
             H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

int snn_an_attr_str(hid_t f, const char *obj, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!snn_an_exists(f, obj) && strcmp(obj, "/"))
        return 0;
    if (H5Aexists_by_name(f, obj, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t ty = H5Aget_type(a);
    int ok = 0;
    if (ty >= 0 && H5Tget_class(ty) == H5T_STRING) {
        htri_t vl = H5Tis_variable_str(ty);
        if (vl > 0) {
            char *p = NULL;
            if (H5Aread(a, ty, &p) >= 0 && p) {
                snprintf(buf, len, "%s", p);
                ok = 1;
            }
            if (p)
                H5free_memory(p);
        } else if (vl == 0) {
            size_t n = H5Tget_size(ty);
            char *s = calloc(n + 1, 1);
            if (s && H5Aread(a, ty, s) >= 0) {
                for (size_t i = n; i > 0 && (s[i - 1] == ' ' || !s[i - 1]); i--)
                    s[i - 1] = '\0';
                snprintf(buf, len, "%s", s);
                ok = 1;
            }
            free(s);
        }
    }
    if (ty >= 0)
        H5Tclose(ty);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

/* H5I_GROUP, H5I_DATASET, or H5I_BADID if `path` is absent. */
static H5I_type_t obj_kind(hid_t f, const char *path)
{
    if (strcmp(path, "/") && !snn_an_exists(f, path))
        return H5I_BADID;
    hid_t o = H5Oopen(f, path, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5I_BADID;
    }
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t;
}

typedef struct name_list {
    char **v;
    size_t n, cap;
    int oom;
} name_list;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    name_list *l = data;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name))) {
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

int snn_an_list(hid_t f, const char *path, char ***names, size_t *n, snn_err *err)
{
    *names = NULL;
    *n = 0;
    if (strcmp(path, "/") && !snn_an_exists(f, path))
        return SNN_OK;
    if (obj_kind(f, path) != H5I_GROUP)
        return SNN_OK;
    name_list l = {0};
    hsize_t idx = 0;
    H5Literate_by_name(f, path, H5_INDEX_NAME, H5_ITER_INC, &idx, list_cb, &l, H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (l.oom) {
        snn_an_names_free(l.v, l.n);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory listing %s", path);
    }
    *names = l.v;
    *n = l.n;
    return SNN_OK;
}

void snn_an_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static int is_dataset(hid_t f, const char *path)
{
    return obj_kind(f, path) == H5I_DATASET;
}

int snn_an_spike_pops(hid_t f, char ***names, size_t *n, snn_err *err)
{
    char **all;
    size_t na;
    *names = NULL;
    *n = 0;
    int rc = snn_an_list(f, "/spikes", &all, &na, err);
    if (rc)
        return rc;
    char **out = calloc(na + 1, sizeof *out);
    if (!out) {
        snn_an_names_free(all, na);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory listing /spikes");
    }
    size_t m = 0;
    if (is_dataset(f, "/spikes/timestamps"))
        out[m++] = strdup("");
    for (size_t i = 0; i < na; i++) {
        char p[1200];
        snprintf(p, sizeof p, "/spikes/%s/timestamps", all[i]);
        if (is_dataset(f, p)) {
            out[m++] = all[i];
            all[i] = NULL;
        }
    }
    snn_an_names_free(all, na);
    for (size_t i = 0; i < m; i++)
        if (!out[i]) {
            snn_an_names_free(out, m);
            SNN_FAIL(err, SNN_ENOMEM, "out of memory listing /spikes");
        }
    *names = out;
    *n = m;
    return SNN_OK;
}

void snn_an_trains_clear(snn_an_trains *tr)
{
    free(tr->off);
    free(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int snn_an_read_trains(hid_t f, const char *fname, const char *pop, snn_an_trains *tr,
                       snn_err *err)
{
    memset(tr, 0, sizeof *tr);
    char g[1100], pt[1200], pi[1200];
    if (pop && pop[0])
        snprintf(g, sizeof g, "/spikes/%s", pop);
    else
        snprintf(g, sizeof g, "/spikes");
    snprintf(pt, sizeof pt, "%s/timestamps", g);
    snprintf(pi, sizeof pi, "%s/node_ids", g);
    if (!is_dataset(f, pi) && (!pop || !pop[0]))
        snprintf(pi, sizeof pi, "%s/gids", g);
    if (!is_dataset(f, pt) || !is_dataset(f, pi))
        SNN_FAIL(err, SNN_EIO, "%s: no spikes at %s (timestamps and node_ids)", fname, g);
    double *t = NULL;
    uint64_t *id = NULL;
    size_t dt[3], di[3];
    int rt, ri, rc;
    if ((rc = snn_an_read_f64(f, fname, pt, &t, dt, &rt, err)) ||
        (rc = snn_an_read_u64(f, fname, pi, &id, di, &ri, err)))
        goto fail;
    if (rt != 1 || ri != 1 || dt[0] != di[0]) {
        rc = snn_err_set(err, SNN_EIO,
                         "%s: %s/timestamps and node_ids are not 1-D of equal length", fname, g);
        goto fail;
    }
    size_t n = dt[0];
    char units[32];
    double scale = 1.0;
    if (snn_an_attr_str(f, pt, "units", units, sizeof units) && !strcmp(units, "s"))
        scale = 1000.0;
    uint64_t idmax = 0;
    for (size_t k = 0; k < n; k++)
        idmax = id[k] > idmax ? id[k] : idmax;
    double size = 0;
    char pp[1200];
    snprintf(pp, sizeof pp, "/populations/%s", pop ? pop : "");
    size_t nn = 0;
    if (pop && pop[0] && snn_an_attr_num(f, pp, "size", &size) && size >= 1 && size < 0x1p40)
        nn = (size_t)size;
    if (n && idmax >= nn) {
        if (idmax >= (uint64_t)1 << 40) {
            rc = snn_err_set(err, SNN_EIO, "%s: %s node id %llu is implausibly large", fname, g,
                             (unsigned long long)idmax);
            goto fail;
        }
        nn = (size_t)idmax + 1;
    }
    tr->n_neurons = nn;
    tr->n_spikes = n;
    tr->off = calloc(nn + 1, sizeof *tr->off);
    tr->t = malloc((n ? n : 1) * sizeof *tr->t);
    if (!tr->off || !tr->t) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory for %zu spikes", fname, n);
        goto fail;
    }
    /* Counting sort by neuron keeps each neuron's file order. */
    for (size_t k = 0; k < n; k++)
        tr->off[id[k] + 1]++;
    for (size_t i = 0; i < nn; i++)
        tr->off[i + 1] += tr->off[i];
    double tmin = INFINITY, tmax = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        double x = t[k] * scale;
        tr->t[tr->off[id[k]]++] = x;
        tmin = x < tmin ? x : tmin;
        tmax = x > tmax ? x : tmax;
    }
    for (size_t i = nn; i > 0; i--)
        tr->off[i] = tr->off[i - 1];
    tr->off[0] = 0;
    for (size_t i = 0; i < nn; i++) {
        double *s = tr->t + tr->off[i];
        size_t m = tr->off[i + 1] - tr->off[i];
        int sorted = 1;
        for (size_t k = 1; k < m && sorted; k++)
            sorted = s[k - 1] <= s[k];
        if (!sorted)
            qsort(s, m, sizeof *s, cmp_double);
    }
    tr->t_min = n ? tmin : 0.0;
    tr->t_max = n ? tmax : 0.0;
    free(t);
    free(id);
    return SNN_OK;
fail:
    free(t);
    free(id);
    snn_an_trains_clear(tr);
    return rc;
}

char *snn_an_read_str(hid_t f, const char *dset)
{
    if (!is_dataset(f, dset))
        return NULL;
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return NULL;
    }
    hid_t ty = H5Dget_type(d);
    char *s = NULL;
    if (ty >= 0 && H5Tget_class(ty) == H5T_STRING) {
        htri_t vl = H5Tis_variable_str(ty);
        if (vl > 0) {
            char *p = NULL;
            if (H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) >= 0 && p)
                s = strdup(p);
            if (p)
                H5free_memory(p);
        } else if (vl == 0) {
            size_t n = H5Tget_size(ty);
            s = calloc(n + 1, 1);
            if (s && H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
                free(s);
                s = NULL;
            }
        }
    }
    if (ty >= 0)
        H5Tclose(ty);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return s;
}

int snn_an_is_dataset(hid_t f, const char *path)
{
    return is_dataset(f, path);
}

void snn_an_guidance_clear(snn_an_guidance *g)
{
    free(g->samples);
    free(g->accuracy);
    free(g->loss);
    free(g->reversed);
    free(g->gated);
    memset(g, 0, sizeof *g);
}

int snn_an_read_guidance(hid_t f, const char *fname, const char *proj, snn_an_guidance *g,
                         snn_err *err)
{
    memset(g, 0, sizeof *g);
    static const char *const names[6] = {"samples", "accuracy", "loss",
                                         "local",   "reversed", "gated"};
    double *v[6] = {NULL};
    size_t n = 0;
    int rc = SNN_OK;
    for (int q = 0; q < 6 && !rc; q++) {
        char path[600];
        snprintf(path, sizeof path, "/ghl/%s/%s", proj, names[q]);
        size_t d[3];
        int r;
        if ((rc = snn_an_read_f64(f, fname, path, &v[q], d, &r, err)))
            break;
        if (r != 1 || (q && d[0] != n))
            rc = snn_err_set(err, SNN_EIO, "%s: %s: expected a vector of %zu values", fname,
                             path, q ? n : d[0]);
        n = d[0];
    }
    char grp[600], rule[32] = "";
    snprintf(grp, sizeof grp, "/ghl/%s", proj);
    g->ghl = snn_an_attr_str(f, grp, "rule", rule, sizeof rule) && !strcmp(rule, "ghl");
    if (!rc) {
        g->n = n;
        g->samples = v[0];
        g->accuracy = v[1];
        g->loss = v[2];
        g->reversed = v[4];
        g->gated = v[5];
        v[0] = v[1] = v[2] = v[4] = v[5] = NULL;
        if (g->ghl) {
            snn_an_batch_fraction(g->reversed, v[3], n, g->reversed);
            snn_an_batch_fraction(g->gated, v[3], n, g->gated);
        } else {
            for (size_t k = 0; k < n; k++)
                g->reversed[k] = g->gated[k] = NAN;
        }
    }
    for (int q = 0; q < 6; q++)
        free(v[q]);
    return rc;
}

int snn_an_read_phase_features(hid_t f, const char *fname, const char *phase,
                               const char (*pops)[64], size_t npops, uint32_t **counts,
                               uint8_t **labels, size_t *n, size_t *dim, snn_err *err)
{
    *counts = NULL;
    *labels = NULL;
    *n = *dim = 0;
    char grp[600], path[800];
    snprintf(grp, sizeof grp, "/features/%s", phase);
    if (!snn_an_exists(f, grp))
        SNN_FAIL(err, SNN_EIO, "%s: no features of phase '%s' (%s): the run stored features "
                 "only for phases with features = [...]", fname, phase, grp);
    char **names = NULL;
    size_t nn = 0, use = 0;
    int rc = SNN_OK;
    if (!npops) {
        if ((rc = snn_an_list(f, grp, &names, &nn, err)))
            return rc;
        for (size_t k = 0; k < nn; k++)
            if (strcmp(names[k], "labels") && strcmp(names[k], "indices"))
                names[use++] = names[k];
            else
                free(names[k]);
        nn = use;
        if (!use) {
            snn_an_names_free(names, nn);
            SNN_FAIL(err, SNN_EIO, "%s: %s holds labels but no population's counts", fname,
                     grp);
        }
    } else {
        use = npops;
    }
    double **cols = calloc(use, sizeof *cols);
    size_t *width = calloc(use, sizeof *width);
    uint64_t *lab = NULL;
    size_t rows = 0, tot = 0;
    if (!cols || !width)
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory reading %s", grp);
    for (size_t k = 0; k < use && !rc; k++) {
        const char *pop = npops ? pops[k] : names[k];
        snprintf(path, sizeof path, "%s/%s", grp, pop);
        if (!snn_an_is_dataset(f, path)) {
            rc = snn_err_set(err, SNN_EIO, "%s: no features of population '%s' in phase '%s' "
                             "(%s)", fname, pop, phase, path);
            break;
        }
        size_t d[3];
        int r;
        if ((rc = snn_an_read_f64(f, fname, path, &cols[k], d, &r, err)))
            break;
        if (r != 2 || (k && d[0] != rows)) {
            rc = snn_err_set(err, SNN_EIO, "%s: %s is not a matrix of %zu samples x neurons",
                             fname, path, k ? rows : d[0]);
            break;
        }
        rows = d[0];
        width[k] = d[1];
        tot += d[1];
    }
    if (!rc) {
        size_t d[3];
        int r;
        snprintf(path, sizeof path, "%s/labels", grp);
        if (!snn_an_is_dataset(f, path))
            rc = snn_err_set(err, SNN_EIO, "%s: no labels of phase '%s' (%s)", fname, phase,
                             path);
        else if (!(rc = snn_an_read_u64(f, fname, path, &lab, d, &r, err)) &&
                 (r != 1 || d[0] != rows))
            rc = snn_err_set(err, SNN_EIO, "%s: %s holds %zu labels for %zu samples", fname,
                             path, r == 1 ? d[0] : 0, rows);
    }
    uint32_t *x = NULL;
    uint8_t *y = NULL;
    if (!rc) {
        size_t cells = rows * tot;
        x = malloc((cells ? cells : 1) * sizeof *x);
        y = malloc(rows ? rows : 1);
        if (!x || !y)
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for %zu x %zu features of %s",
                             rows, tot, grp);
    }
    for (size_t i = 0; i < rows && !rc; i++) {
        if (lab[i] > 255) {
            rc = snn_err_set(err, SNN_EIO, "%s: %s/labels: label %llu of sample %zu is above "
                             "255", fname, grp, (unsigned long long)lab[i], i);
            break;
        }
        y[i] = (uint8_t)lab[i];
        size_t off = 0;
        for (size_t k = 0; k < use && !rc; k++) {
            for (size_t j = 0; j < width[k]; j++) {
                double v = cols[k][i * width[k] + j];
                if (!(v >= 0 && v <= 4294967295.0) || v != floor(v)) {
                    rc = snn_err_set(err, SNN_EIO, "%s: %s/%s: value %g (sample %zu) is not a "
                                     "spike count", fname, grp, npops ? pops[k] : names[k], v, i);
                    break;
                }
                x[i * tot + off + j] = (uint32_t)v;
            }
            off += width[k];
        }
    }
    for (size_t k = 0; cols && k < use; k++)
        free(cols[k]);
    free(cols);
    free(width);
    free(lab);
    snn_an_names_free(names, nn);
    if (rc) {
        free(x);
        free(y);
        return rc;
    }
    *counts = x;
    *labels = y;
    *n = rows;
    *dim = tot;
    return SNN_OK;
}
