/*
 * io/idx.c: the IDX dataset reader (format in io/idx.h).
 *
 * Files are opened with open() (so a missing file or a directory gives a
 * plain errno message) and read through zlib's gzdopen/gzread, which looks at
 * the first bytes: a gzip stream (magic 0x1f 0x8b) is inflated, anything
 * else is read as is.  Both headers are validated before the pixel buffer is
 * allocated, and the data is read once, straight into the returned buffers:
 * zlib inflates large reads directly into them, and only its look-ahead
 * (at most 2 * GZ_BUFFER bytes, taken while reading the header) passes
 * through its own buffer.  There is no intermediate copy of the file.
 * Ownership: the returned snn_dataset and its two arrays belong to the
 * caller; nothing else outlives a call.  zlib only verifies a gzip
 * stream's CRC at its end, so when the whole set is loaded we read one byte
 * past the data: that checks the trailer and catches files longer than their
 * header says.  With max_n < n the rest of the file is not read (beyond what
 * zlib buffers ahead).
 *
 * Every error names the file.  gzerror() messages are prefixed by zlib with
 * its own name for the stream ("<fd:3>: ..."); that prefix is dropped.
 */
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

enum {
    MAGIC_IMAGES = 0x00000803,
    MAGIC_LABELS = 0x00000801,
    GZ_BUFFER = 1 << 17,   /* zlib's input buffer (default 8 KiB) */
    READ_CHUNK = 1 << 30   /* gzread takes an unsigned and returns an int */
};

typedef struct idx_file {
    const char *path;      /* borrowed, for messages */
    const char *what;      /* "image" or "label" */
    gzFile gz;
    uint32_t size[3];      /* n [, rows, cols] */
} idx_file;

/* zlib's message for the stream's error, without its "<fd:N>: " prefix. */
static const char *gz_reason(gzFile gz, int *zerr)
{
    const char *m = gzerror(gz, zerr);
    if (m && m[0] == '<') {
        const char *p = strstr(m, ">: ");
        if (p)
            m = p + 3;
    }
    return m && *m ? m : "unknown zlib error";
}

/* Read exactly `len` bytes into dst.  Returns 0 when all were read, 1 when
   the stream ended first (raw end of file, or a gzip stream cut short),
   -1 on a zlib or read error; *got is the number of bytes stored. */
static int read_full(gzFile gz, uint8_t *dst, size_t len, size_t *got)
{
    size_t done = 0;
    int zerr = Z_OK;
    while (done < len) {
        size_t want = len - done < READ_CHUNK ? len - done : READ_CHUNK;
        int r = gzread(gz, dst + done, (unsigned)want);
        if (r < 0) {
            *got = done;
            return -1;
        }
        if (r == 0) {
            *got = done;
            gzerror(gz, &zerr);
            return zerr == Z_OK || zerr == Z_BUF_ERROR ? 1 : -1;
        }
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Fill err for a zlib error on f's stream.  zlib reads and inflates ahead
   of the caller, so the message does not say which part was being read. */
static int zlib_fail(const idx_file *f, snn_err *err)
{
    int zerr;
    const char *why = gz_reason(f->gz, &zerr);
    if (zerr == Z_MEM_ERROR)
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory in zlib", f->path);
    if (zerr == Z_ERRNO)
        SNN_FAIL(err, SNN_EIO, "%s: read error: %s", f->path, why);
    SNN_FAIL(err, SNN_EIO, "%s: corrupt gzip stream: %s", f->path, why);
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown type";
    }
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void idx_close(idx_file *f)
{
    if (f->gz)
        gzclose_r(f->gz);
    f->gz = NULL;
}

/* Open f->path and read and check its header: `dims` sizes (3 for images,
   1 for labels) after magic `magic`.  On failure the file is closed. */
static int idx_open(idx_file *f, uint32_t magic, unsigned dims, snn_err *err)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        SNN_FAIL(err, SNN_EIO, "%s: cannot open %s file: %s", f->path, f->what,
                 strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        SNN_FAIL(err, SNN_EIO, "%s: cannot open %s file: is a directory", f->path, f->what);
    }
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory opening the file", f->path);
    }
    gzbuffer(f->gz, GZ_BUFFER);

    uint8_t h[16];
    size_t len = 4 + 4 * (size_t)dims, got;
    int rc = read_full(f->gz, h, 4, &got);
    if (rc == 0 && be32(h) == magic) {
        rc = read_full(f->gz, h + 4, len - 4, &got);
        got += 4;
    }
    if (rc < 0) {
        rc = zlib_fail(f, err);
        idx_close(f);
        return rc;
    }
    if (rc > 0) {
        idx_close(f);
        SNN_FAIL(err, SNN_EIO, "%s: truncated: expected %zu bytes of IDX %s header, got %zu",
                 f->path, len, f->what, got);
    }

    uint32_t m = be32(h);
    if (m != magic) {
        idx_close(f);
        if ((m & 0xffff0000u) == 0 && (m & 0xffu) == (magic & 0xffu))
            SNN_FAIL(err, SNN_EIO,
                     "%s: IDX element type 0x%02x (%s) is not supported (magic 0x%08x, "
                     "expected 0x%08x: unsigned byte)",
                     f->path, (unsigned)(m >> 8 & 0xff), type_name(m >> 8 & 0xff), (unsigned)m,
                     (unsigned)magic);
        const char *hint = m == MAGIC_LABELS   ? "; this looks like an IDX label file"
                           : m == MAGIC_IMAGES ? "; this looks like an IDX image file"
                                               : "";
        SNN_FAIL(err, SNN_EIO, "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)%s",
                 f->path, f->what, (unsigned)m, (unsigned)magic, hint);
    }
    for (unsigned i = 0; i < dims; i++)
        f->size[i] = be32(h + 4 + 4 * i);
    return SNN_OK;
}

/* Read `len` bytes of f's data into dst. */
static int idx_read(idx_file *f, uint8_t *dst, size_t len, snn_err *err)
{
    size_t got;
    int rc = read_full(f->gz, dst, len, &got);
    if (rc < 0)
        return zlib_fail(f, err);
    if (rc > 0)
        SNN_FAIL(err, SNN_EIO, "%s: truncated: expected %zu bytes of %s data, got %zu", f->path,
                 len, f->what, got);
    return SNN_OK;
}

/* After the last sample: the file must end here (and a gzip trailer must
   check out). */
static int idx_expect_end(idx_file *f, snn_err *err)
{
    uint8_t extra;
    size_t got;
    int rc = read_full(f->gz, &extra, 1, &got);
    if (rc < 0)
        return zlib_fail(f, err);
    if (rc == 0)
        SNN_FAIL(err, SNN_EIO, "%s: longer than its header says: data after the %u %ss",
                 f->path, (unsigned)f->size[0], f->what);
    int zerr;
    gzerror(f->gz, &zerr);
    if (zerr == Z_BUF_ERROR)
        SNN_FAIL(err, SNN_EIO, "%s: corrupt gzip stream: it ends before its trailer", f->path);
    return SNN_OK;
}

void snn_dataset_free(snn_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    free(d);
}

static int load(idx_file *im, idx_file *lb, size_t max_n, snn_dataset **out, snn_err *err)
{
    int rc;
    if ((rc = idx_open(im, MAGIC_IMAGES, 3, err)))
        return rc;
    uint32_t n = im->size[0], rows = im->size[1], cols = im->size[2];
    if (n == 0 || rows == 0 || cols == 0 || rows > SNN_IDX_MAX_SIDE || cols > SNN_IDX_MAX_SIDE)
        SNN_FAIL(err, SNN_EIO,
                 "%s: bad IDX image sizes %u x %u x %u (need n >= 1 and 1 <= rows, cols <= %u)",
                 im->path, (unsigned)n, (unsigned)rows, (unsigned)cols, SNN_IDX_MAX_SIDE);
    uint64_t total = (uint64_t)n * rows * cols; /* < 2^56: no overflow */
    if (total > SNN_IDX_MAX_BYTES || (uint64_t)(size_t)total != total)
        SNN_FAIL(err, SNN_EIO,
                 "%s: implausible IDX image sizes %u x %u x %u (%llu bytes, limit %llu)",
                 im->path, (unsigned)n, (unsigned)rows, (unsigned)cols,
                 (unsigned long long)total, (unsigned long long)SNN_IDX_MAX_BYTES);

    if ((rc = idx_open(lb, MAGIC_LABELS, 1, err)))
        return rc;
    if (lb->size[0] != n)
        SNN_FAIL(err, SNN_EIO, "%s and %s disagree: %u images but %u labels", im->path,
                 lb->path, (unsigned)n, (unsigned)lb->size[0]);

    size_t m = max_n && max_n < n ? max_n : n, px = (size_t)rows * cols;
    snn_dataset *d = calloc(1, sizeof *d);
    if (!d)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the dataset of %s", im->path);
    d->n = m;
    d->rows = rows;
    d->cols = cols;
    d->images = malloc(m * px);
    d->labels = malloc(m);
    if (!d->images || !d->labels) {
        snn_dataset_free(d);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory for %zu bytes of image data", im->path,
                 m * px);
    }
    if ((rc = idx_read(im, d->images, m * px, err)) ||
        (m == n && (rc = idx_expect_end(im, err))) || (rc = idx_read(lb, d->labels, m, err)) ||
        (m == n && (rc = idx_expect_end(lb, err)))) {
        snn_dataset_free(d);
        return rc;
    }
    *out = d;
    return SNN_OK;
}

int snn_idx_load(const char *images_path, const char *labels_path, size_t max_n,
                 snn_dataset **out, snn_err *err)
{
    *out = NULL;
    idx_file im = {.path = images_path, .what = "image"};
    idx_file lb = {.path = labels_path, .what = "label"};
    int rc = load(&im, &lb, max_n, out, err);
    idx_close(&im);
    idx_close(&lb);
    return rc;
}

/* "<dir>/<name>" in a new string taken by the caller, or NULL. */
static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* Find <dir>/<base> or <dir>/<base>.gz (raw first).  *path is taken by the
   caller. */
static int find_file(const char *dir, const char *base, const char *what, char **path,
                     snn_err *err)
{
    char gz[64];
    snprintf(gz, sizeof gz, "%s.gz", base);
    const char *names[2] = {base, gz};
    for (int i = 0; i < 2; i++) {
        char *p = join(dir, names[i]);
        if (!p)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory");
        struct stat sb;
        if (stat(p, &sb) == 0) {
            *path = p;
            return SNN_OK;
        }
        free(p);
    }
    SNN_FAIL(err, SNN_EIO, "%s: no %s file: tried %s and %s", dir, what, base, gz);
}

int snn_idx_load_dir(const char *dir, const char *split, size_t max_n, snn_dataset **out,
                     snn_err *err)
{
    *out = NULL;
    const char *prefix;
    if (!strcmp(split, "train"))
        prefix = "train";
    else if (!strcmp(split, "t10k") || !strcmp(split, "test"))
        prefix = "t10k";
    else
        SNN_FAIL(err, SNN_ECFG, "dataset split '%s' is not one of train, t10k, test", split);

    char ibase[32], lbase[32];
    snprintf(ibase, sizeof ibase, "%s-images-idx3-ubyte", prefix);
    snprintf(lbase, sizeof lbase, "%s-labels-idx1-ubyte", prefix);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        SNN_FAIL(err, SNN_EIO,
                 "%s: cannot open dataset directory: %s (looking for %s[.gz] and %s[.gz])", dir,
                 strerror(errno), ibase, lbase);
    if (!S_ISDIR(sb.st_mode))
        SNN_FAIL(err, SNN_EIO, "%s: not a directory (looking for %s[.gz] and %s[.gz])", dir,
                 ibase, lbase);

    char *ipath = NULL, *lpath = NULL;
    int rc = find_file(dir, ibase, "image", &ipath, err);
    if (!rc)
        rc = find_file(dir, lbase, "label", &lpath, err);
    if (!rc)
        rc = snn_idx_load(ipath, lpath, max_n, out, err);
    free(ipath);
    free(lpath);
    return rc;
}
