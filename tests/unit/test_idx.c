/*
 * tests/unit/test_idx.c: io/idx.c, the IDX (MNIST) dataset reader.
 *
 * Fixtures are written by this program into a fresh directory under the
 * working directory (removed at the end), raw and gzip-compressed (zlib
 * gzopen "wb"): a small set must round-trip byte for byte, max_n must cut it,
 * and every malformed file (missing, wrong magic, wrong element type, zero or
 * absurd sizes, truncated, corrupt gzip, extra data, count mismatch) must
 * give SNN_EIO, a NULL set and a message naming the file.  Run under ASan,
 * this also checks that no failure path leaks memory; test_no_open_files
 * checks that none leaks a file descriptor.
 *
 * The real MNIST (../shared/data/mnist beside the source tree) and
 * Fashion-MNIST (/usr/share/datasets/fashion-mnist) sets are checked against
 * their known sizes, first labels and class histograms when present, and
 * skipped with a note otherwise.  SNN_TEST_VERBOSE=1 prints every error
 * message checked.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "io/idx.h"
#include "tests/support.h"

#ifndef SNN_SOURCE_DIR
#define SNN_SOURCE_DIR "."
#endif
#define MNIST_DIR SNN_SOURCE_DIR "/../shared/data/mnist"
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static char dir[256];
static int fds_at_start = -1;

/* Open file descriptors of this process (-1 without /proc). */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the one opendir holds */
}

/* A path inside the test directory (static buffer: use before the next call
   with the same slot). */
static const char *in_dir(int slot, const char *name)
{
    static char buf[4][512];
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, name);
    return buf[slot];
}

static int rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            rm_rf(p);
        }
        if (d)
            closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "./test_idx.XXXXXX");
    fds_at_start = count_fds();
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return rm_rf(dir);
}

/* ---- fixtures ------------------------------------------------------------ */

/* A byte image of a file: header and data, built up with put_*. */
typedef struct blob {
    uint8_t *b;
    size_t len, cap;
} blob;

static void put(blob *x, const void *p, size_t n)
{
    if (x->len + n > x->cap) {
        x->cap = 2 * (x->len + n) + 64;
        x->b = realloc(x->b, x->cap);
        assert_non_null(x->b);
    }
    memcpy(x->b + x->len, p, n);
    x->len += n;
}

static void put_be32(blob *x, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(x, b, 4);
}

/* Write `x` to <dir>/<name>, gzip-compressed when gz; returns the path
   (slot as in_dir). */
static const char *write_blob(int slot, const char *name, const blob *x, int gz)
{
    const char *path = in_dir(slot, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (x->len)
            assert_int_equal(gzwrite(f, x->b, (unsigned)x->len), (int)x->len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (x->len)
            assert_int_equal(fwrite(x->b, 1, x->len, f), x->len);
        assert_int_equal(fclose(f), 0);
    }
    return path;
}

/* Deterministic pixel value of image i at (r, c) and label of sample i (one
   label is above 9: kept as stored). */
static uint8_t pixel(size_t i, size_t r, size_t c)
{
    uint32_t h = (uint32_t)(i * 7919u + r * 131u + c * 31u + 17u);
    h ^= h >> 7;
    h *= 2654435761u;
    return (uint8_t)(h >> 24);
}

static uint8_t label(size_t i)
{
    return i == 3 ? 200 : (uint8_t)(i * 3 % 10);
}

/* Image file contents: magic, sizes n x rows x cols, then the first
   `n_data` images (n_data may differ from n to make bad files). */
static blob images_blob(uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols, size_t n_data)
{
    blob x = {0};
    put_be32(&x, magic);
    put_be32(&x, n);
    put_be32(&x, rows);
    put_be32(&x, cols);
    for (size_t i = 0; i < n_data; i++)
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++) {
                uint8_t v = pixel(i, r, c);
                put(&x, &v, 1);
            }
    return x;
}

static blob labels_blob(uint32_t magic, uint32_t n, size_t n_data)
{
    blob x = {0};
    put_be32(&x, magic);
    put_be32(&x, n);
    for (size_t i = 0; i < n_data; i++) {
        uint8_t v = label(i);
        put(&x, &v, 1);
    }
    return x;
}

/* Write a good image file of n x rows x cols; returns its path (slot). */
static const char *good_images(int slot, const char *name, uint32_t n, uint32_t rows,
                               uint32_t cols, int gz)
{
    blob x = images_blob(0x803, n, rows, cols, n);
    const char *p = write_blob(slot, name, &x, gz);
    free(x.b);
    return p;
}

static const char *good_labels(int slot, const char *name, uint32_t n, int gz)
{
    blob x = labels_blob(0x801, n, n);
    const char *p = write_blob(slot, name, &x, gz);
    free(x.b);
    return p;
}

/* Read a whole file (to corrupt it); *len is its size. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ---- checks -------------------------------------------------------------- */

/* The set equals the first n fixture samples of rows x cols. */
static void check_set(const snn_dataset *d, size_t n, size_t rows, size_t cols)
{
    assert_non_null(d);
    assert_int_equal(d->n, n);
    assert_int_equal(d->rows, rows);
    assert_int_equal(d->cols, cols);
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++)
                if (d->images[(i * rows + r) * cols + c] != pixel(i, r, c))
                    fail_msg("image %zu (%zu, %zu) = %u, expected %u", i, r, c,
                             d->images[(i * rows + r) * cols + c], pixel(i, r, c));
        if (d->labels[i] != label(i))
            fail_msg("label %zu = %u, expected %u", i, d->labels[i], label(i));
    }
}

static void load_ok(const char *img, const char *lbl, size_t max_n, size_t n, size_t rows,
                    size_t cols)
{
    snn_err e;
    snn_err_clear(&e);
    snn_dataset *d = (snn_dataset *)1;
    int rc = snn_idx_load(img, lbl, max_n, &d, &e);
    if (rc != SNN_OK)
        fail_msg("snn_idx_load(%s, %s, %zu) failed: %d %s", img, lbl, max_n, rc, e.msg);
    check_set(d, n, rows, cols);
    snn_dataset_free(d);
}

/* rc must be `code`, the set NULL, and the message must contain each of the
   NULL-terminated substrings. */
static void check_fail(int rc, const snn_dataset *d, const snn_err *e, int code, ...)
{
    if (rc != code || e->code != code)
        fail_msg("status %d (err %d, \"%s\"), expected %d", rc, e->code, e->msg, code);
    assert_null(d);
    if (getenv("SNN_TEST_VERBOSE"))
        print_message("    %s\n", e->msg);
    va_list ap;
    va_start(ap, code);
    for (const char *s; (s = va_arg(ap, const char *));)
        if (!strstr(e->msg, s)) {
            va_end(ap);
            fail_msg("message \"%s\" lacks \"%s\"", e->msg, s);
        }
    va_end(ap);
}

#define LOAD_FAIL(img, lbl, max_n, code, ...)                                          \
    do {                                                                               \
        snn_err e_;                                                                    \
        snn_err_clear(&e_);                                                            \
        snn_dataset *d_ = (snn_dataset *)1;                                            \
        int rc_ = snn_idx_load((img), (lbl), (max_n), &d_, &e_);                       \
        check_fail(rc_, d_, &e_, (code), __VA_ARGS__, (const char *)NULL);             \
    } while (0)

#define LOAD_DIR_FAIL(dir_, split, code, ...)                                          \
    do {                                                                               \
        snn_err e_;                                                                    \
        snn_err_clear(&e_);                                                            \
        snn_dataset *d_ = (snn_dataset *)1;                                            \
        int rc_ = snn_idx_load_dir((dir_), (split), 0, &d_, &e_);                      \
        check_fail(rc_, d_, &e_, (code), __VA_ARGS__, (const char *)NULL);             \
    } while (0)

/* ---- tests on generated files --------------------------------------------- */

static void test_round_trip(void **state)
{
    /* rows != cols catches a transposed layout; every raw/gzip pairing. */
    for (int gi = 0; gi < 2; gi++)
        for (int gl = 0; gl < 2; gl++) {
            const char *img = good_images(0, gi ? "rt-img.gz" : "rt-img", 5, 3, 4, gi);
            const char *lbl = good_labels(1, gl ? "rt-lbl.gz" : "rt-lbl", 5, gl);
            load_ok(img, lbl, 0, 5, 3, 4);
        }
    /* The name does not decide: gzip data without .gz, raw data with .gz. */
    load_ok(good_images(0, "gz-named-raw.gz", 5, 3, 4, 0),
            good_labels(1, "raw-named-gz", 5, 1), 0, 5, 3, 4);
    /* One image of one pixel. */
    load_ok(good_images(0, "one-img", 1, 1, 1, 1), good_labels(1, "one-lbl", 1, 0), 0, 1, 1, 1);
    /* MNIST-sized images, enough data for several zlib buffers. */
    load_ok(good_images(0, "big-img.gz", 300, 28, 28, 1), good_labels(1, "big-lbl.gz", 300, 1),
            0, 300, 28, 28);
}

static void test_max_n(void **state)
{
    const char *img = good_images(0, "mx-img.gz", 5, 3, 4, 1);
    const char *lbl = good_labels(1, "mx-lbl", 5, 0);
    load_ok(img, lbl, 1, 1, 3, 4);
    load_ok(img, lbl, 2, 2, 3, 4);
    load_ok(img, lbl, 5, 5, 3, 4);
    load_ok(img, lbl, 1000, 5, 3, 4);

    /* Only the samples asked for are read: a file cut after image 2 still
       gives the first two, and fails when all are asked for. */
    blob x = images_blob(0x803, 5, 3, 4, 2);
    img = write_blob(0, "mx-cut-img", &x, 0);
    free(x.b);
    load_ok(img, lbl, 2, 2, 3, 4);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "truncated: expected 60 bytes of image data, got 24");
    LOAD_FAIL(img, lbl, 3, SNN_EIO, img, "truncated: expected 36 bytes of image data, got 24");
}

static void test_load_dir(void **state)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/set", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    good_images(0, "set/train-images-idx3-ubyte.gz", 5, 3, 4, 1);
    good_labels(0, "set/train-labels-idx1-ubyte", 5, 0);
    good_images(0, "set/t10k-images-idx3-ubyte", 3, 2, 2, 0);
    good_labels(0, "set/t10k-labels-idx1-ubyte.gz", 3, 1);

    snn_err e;
    snn_err_clear(&e);
    snn_dataset *d = NULL;
    assert_int_equal(snn_idx_load_dir(sub, "train", 0, &d, &e), SNN_OK);
    check_set(d, 5, 3, 4);
    snn_dataset_free(d);
    assert_int_equal(snn_idx_load_dir(sub, "train", 4, &d, &e), SNN_OK);
    check_set(d, 4, 3, 4);
    snn_dataset_free(d);
    assert_int_equal(snn_idx_load_dir(sub, "t10k", 0, &d, &e), SNN_OK);
    check_set(d, 3, 2, 2);
    snn_dataset_free(d);
    assert_int_equal(snn_idx_load_dir(sub, "test", 0, &d, &e), SNN_OK);
    check_set(d, 3, 2, 2);
    snn_dataset_free(d);

    /* Raw and .gz both present: the raw file is read. */
    good_images(0, "set/train-images-idx3-ubyte", 5, 2, 3, 0);
    assert_int_equal(snn_idx_load_dir(sub, "train", 0, &d, &e), SNN_OK);
    check_set(d, 5, 2, 3);
    snn_dataset_free(d);

    /* An error inside a found file names that file. */
    blob x = labels_blob(0x801, 4, 4);
    write_blob(0, "set/t10k-labels-idx1-ubyte", &x, 0);
    free(x.b);
    LOAD_DIR_FAIL(sub, "test", SNN_EIO, "set/t10k-images-idx3-ubyte and ",
                  "set/t10k-labels-idx1-ubyte disagree: 3 images but 4 labels");
    x = labels_blob(0x801, 3, 2);
    write_blob(0, "set/t10k-labels-idx1-ubyte", &x, 0);
    free(x.b);
    LOAD_DIR_FAIL(sub, "test", SNN_EIO,
                  "set/t10k-labels-idx1-ubyte: truncated: expected 3 bytes of label data, got 2");

    LOAD_DIR_FAIL(sub, "validation", SNN_ECFG, "'validation'", "train, t10k, test");
}

static void test_missing(void **state)
{
    const char *img = good_images(0, "ms-img", 5, 3, 4, 0);
    const char *lbl = good_labels(1, "ms-lbl", 5, 0);
    const char *none = in_dir(2, "no-such-file");
    LOAD_FAIL(none, lbl, 0, SNN_EIO, none, "cannot open image file", "No such file");
    LOAD_FAIL(img, none, 0, SNN_EIO, none, "cannot open label file", "No such file");
    LOAD_FAIL(dir, lbl, 0, SNN_EIO, dir, "is a directory");

    /* Directory missing, or holding no (or only half of a) set. */
    const char *gone = in_dir(2, "no-such-dir");
    LOAD_DIR_FAIL(gone, "train", SNN_EIO, gone, "No such file",
                  "train-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]");
    LOAD_DIR_FAIL(img, "train", SNN_EIO, img, "not a directory");
    char sub[512];
    snprintf(sub, sizeof sub, "%s/empty", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    LOAD_DIR_FAIL(sub, "t10k", SNN_EIO, sub, "no image file",
                  "t10k-images-idx3-ubyte and t10k-images-idx3-ubyte.gz");
    good_images(0, "empty/t10k-images-idx3-ubyte.gz", 5, 3, 4, 1);
    LOAD_DIR_FAIL(sub, "test", SNN_EIO, sub, "no label file",
                  "t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz");
}

static void test_bad_magic(void **state)
{
    for (int gz = 0; gz < 2; gz++) {
        const char *img = good_images(0, "bm-img", 5, 3, 4, gz);
        const char *lbl = good_labels(1, "bm-lbl", 5, gz);
        /* The two files swapped. */
        LOAD_FAIL(lbl, img, 0, SNN_EIO, lbl,
                  "not an IDX image file (magic 0x00000801, expected 0x00000803)",
                  "looks like an IDX label file");
        LOAD_FAIL(img, img, 0, SNN_EIO, img,
                  "not an IDX label file (magic 0x00000803, expected 0x00000801)");
        /* Not IDX at all (a text file, a PNG-like header). */
        blob x = {0};
        put(&x, "hello, world\n", 13);
        const char *bad = write_blob(2, "bm-text", &x, gz);
        free(x.b);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad,
                  "not an IDX image file (magic 0x68656c6c, expected 0x00000803)");
        x = images_blob(0x89504e47, 5, 3, 4, 5);
        bad = write_blob(2, "bm-png", &x, gz);
        free(x.b);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad, "magic 0x89504e47, expected 0x00000803");
    }
}

static void test_bad_type(void **state)
{
    const char *lbl = good_labels(1, "bt-lbl", 5, 0);
    blob x = images_blob(0x00000D03, 5, 3, 4, 5);
    const char *img = write_blob(0, "bt-float.gz", &x, 1);
    free(x.b);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "element type 0x0d (float32) is not supported");
    x = images_blob(0x00000903, 5, 3, 4, 5);
    img = write_blob(0, "bt-sbyte", &x, 0);
    free(x.b);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "element type 0x09 (signed byte)");
    img = good_images(0, "bt-img", 5, 3, 4, 0);
    x = labels_blob(0x00000C01, 5, 0);
    lbl = write_blob(1, "bt-int-lbl", &x, 0);
    free(x.b);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, lbl, "element type 0x0c (int32)", "expected 0x00000801");
}

static void test_bad_sizes(void **state)
{
    const char *lbl = good_labels(1, "bs-lbl", 5, 0);
    static const uint32_t bad[][3] = {
        {0, 3, 4}, {5, 0, 4}, {5, 3, 0}, {5, 4097, 4}, {5, 3, 5000}, {5, 0xffffffffu, 4}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        blob x = images_blob(0x803, bad[k][0], bad[k][1], bad[k][2], 0);
        const char *img = write_blob(0, "bs-img", &x, k % 2);
        free(x.b);
        char sizes[64];
        snprintf(sizes, sizeof sizes, "bad IDX image sizes %u x %u x %u", bad[k][0], bad[k][1],
                 bad[k][2]);
        LOAD_FAIL(img, lbl, 0, SNN_EIO, img, sizes);
    }
    /* Each side sane, the product not: refused before any allocation. */
    static const uint32_t huge[][3] = {{0xffffffffu, 4096, 4096}, {0xffffffffu, 28, 28},
                                       {5500000, 28, 28}};
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        blob x = images_blob(0x803, huge[k][0], huge[k][1], huge[k][2], 0);
        const char *img = write_blob(0, "bs-huge", &x, 0);
        free(x.b);
        LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "implausible IDX image sizes");
    }
}

static void test_truncated(void **state)
{
    const char *lbl = good_labels(1, "tr-lbl", 5, 0);
    const char *img = good_images(0, "tr-img", 5, 3, 4, 0);

    /* Empty and short headers, raw and gzip. */
    for (int gz = 0; gz < 2; gz++) {
        blob x = {0};
        const char *bad = write_blob(2, "tr-empty", &x, gz);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad,
                  "truncated: expected 16 bytes of IDX image header, got 0");
        x = images_blob(0x803, 5, 3, 4, 0);
        x.len = 10;
        bad = write_blob(2, "tr-head", &x, gz);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad,
                  "truncated: expected 16 bytes of IDX image header, got 10");
        x.len = 3;
        bad = write_blob(2, "tr-head", &x, gz);
        free(x.b);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad,
                  "truncated: expected 16 bytes of IDX image header, got 3");
        x = labels_blob(0x801, 5, 0);
        x.len = 6;
        bad = write_blob(2, "tr-lhead", &x, gz);
        free(x.b);
        LOAD_FAIL(img, bad, 0, SNN_EIO, bad,
                  "truncated: expected 8 bytes of IDX label header, got 6");
    }

    /* Data cut short: the count read is exact. */
    for (int gz = 0; gz < 2; gz++) {
        blob x = images_blob(0x803, 5, 3, 4, 5);
        x.len -= 10;
        const char *bad = write_blob(2, "tr-data", &x, gz);
        free(x.b);
        LOAD_FAIL(bad, lbl, 0, SNN_EIO, bad, "truncated: expected 60 bytes of image data, got 50");
        x = labels_blob(0x801, 5, 5);
        x.len -= 1;
        bad = write_blob(2, "tr-ldata", &x, gz);
        free(x.b);
        LOAD_FAIL(img, bad, 0, SNN_EIO, bad, "truncated: expected 5 bytes of label data, got 4");
    }

    /* A gzip file cut in the middle of its compressed stream. */
    const char *gzi = good_images(2, "tr-cut.gz", 50, 28, 28, 1);
    size_t len;
    uint8_t *b = slurp(gzi, &len);
    const char *big_lbl = good_labels(1, "tr-big-lbl", 50, 0);
    spit(gzi, b, len / 2);
    LOAD_FAIL(gzi, big_lbl, 0, SNN_EIO, gzi, "truncated: expected 39200 bytes of image data, got");
    /* ... and cut inside its 8-byte trailer: the data is all there, but the
       file is damaged (only seen when the whole set is read). */
    spit(gzi, b, len - 3);
    LOAD_FAIL(gzi, big_lbl, 0, SNN_EIO, gzi, "corrupt gzip stream", "ends before its trailer");
    load_ok(gzi, big_lbl, 49, 49, 28, 28);
    free(b);
}

static void test_corrupt_gzip(void **state)
{
    /* 500 images (392 kB): more than zlib inflates ahead of the header, so
       a bad CRC is found after the data, not while reading the header. */
    const char *lbl = good_labels(1, "cg-lbl", 500, 0);
    const char *img = good_images(0, "cg-img.gz", 500, 28, 28, 1);
    size_t len;
    uint8_t *good = slurp(img, &len);
    uint8_t *b = malloc(len);
    assert_non_null(b);
    /* gzopen writes a 10-byte header without a name, so byte 10 opens the
       first deflate block: BTYPE (bits 1-2) = 3 is invalid. */
    assert_int_equal(good[0], 0x1f);
    assert_int_equal(good[1], 0x8b);
    assert_int_equal(good[3] & 0x08, 0); /* no FNAME */
    memcpy(b, good, len);
    b[10] |= 0x06;
    spit(img, b, len);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "corrupt gzip stream", "invalid block type");

    /* A wrong CRC-32 in the trailer. */
    memcpy(b, good, len);
    b[len - 8] ^= 0xff;
    spit(img, b, len);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "corrupt gzip stream", "incorrect data check");

    /* A wrong compression method in the gzip header. */
    memcpy(b, good, len);
    b[2] = 7;
    spit(img, b, len);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "corrupt gzip stream", "unknown compression method");

    /* The same for a label file. */
    const char *imgr = good_images(0, "cg-img", 500, 28, 28, 0);
    const char *lgz = good_labels(1, "cg-lbl.gz", 500, 1);
    uint8_t *lb = slurp(lgz, &len);
    lb[len - 8] ^= 0xff;
    spit(lgz, lb, len);
    LOAD_FAIL(imgr, lgz, 0, SNN_EIO, lgz, "corrupt gzip stream", "incorrect data check");
    free(lb);
    free(b);
    free(good);
}

static void test_extra_data(void **state)
{
    const char *lbl = good_labels(1, "ex-lbl", 5, 0);
    for (int gz = 0; gz < 2; gz++) {
        blob x = images_blob(0x803, 5, 3, 4, 6);
        const char *img = write_blob(0, "ex-img", &x, gz);
        free(x.b);
        LOAD_FAIL(img, lbl, 0, SNN_EIO, img, "longer than its header says", "after the 5 images");
        load_ok(img, lbl, 4, 4, 3, 4);
    }
}

static void test_count_mismatch(void **state)
{
    const char *img = good_images(0, "cm-img.gz", 5, 3, 4, 1);
    const char *lbl = good_labels(1, "cm-lbl", 4, 0);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, img, lbl, "5 images but 4 labels");
    /* Also with max_n: the headers must agree whatever is loaded. */
    LOAD_FAIL(img, lbl, 2, SNN_EIO, "5 images but 4 labels");
    lbl = good_labels(1, "cm-lbl", 6, 1);
    LOAD_FAIL(img, lbl, 0, SNN_EIO, "5 images but 6 labels");
}

/* Runs after every failure above: no file was left open. */
static void test_no_open_files(void **state)
{
    if (fds_at_start < 0) {
        print_message("note: /proc/self/fd not readable; skipping this check\n");
        skip();
    }
    assert_int_equal(count_fds(), fds_at_start);
}

/* ---- the real data sets ----------------------------------------------------- */

static int have_dir(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return 1;
    print_message("note: %s not found; skipping this check\n", path);
    return 0;
}

static snn_dataset *load_real(const char *path, const char *split)
{
    snn_err e;
    snn_err_clear(&e);
    snn_dataset *d = NULL;
    int rc = snn_idx_load_dir(path, split, 0, &d, &e);
    if (rc != SNN_OK)
        fail_msg("%s %s: %d %s", path, split, rc, e.msg);
    return d;
}

static void check_hist(const snn_dataset *d, const char *name, const size_t expect[10])
{
    size_t h[256] = {0};
    for (size_t i = 0; i < d->n; i++)
        h[d->labels[i]]++;
    for (int c = 0; c < 256; c++)
        if (h[c] != (c < 10 ? expect[c] : 0))
            fail_msg("%s: %zu labels of class %d, expected %zu", name, h[c], c,
                     c < 10 ? expect[c] : (size_t)0);
}

static void test_mnist(void **state)
{
    if (!have_dir(MNIST_DIR))
        skip();
    static const size_t train_hist[10] = {5923, 6742, 5958, 6131, 5842,
                                          5421, 5918, 6265, 5851, 5949};
    static const size_t test_hist[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    snn_dataset *d = load_real(MNIST_DIR, "train");
    assert_int_equal(d->n, 60000);
    assert_int_equal(d->rows, 28);
    assert_int_equal(d->cols, 28);
    assert_int_equal(d->labels[0], 5);
    check_hist(d, "MNIST train", train_hist);
    snn_dataset_free(d);

    d = load_real(MNIST_DIR, "t10k");
    assert_int_equal(d->n, 10000);
    assert_int_equal(d->rows, 28);
    assert_int_equal(d->cols, 28);
    assert_int_equal(d->labels[0], 7);
    check_hist(d, "MNIST t10k", test_hist);
    snn_dataset_free(d);
}

static void test_fashion_mnist(void **state)
{
    if (!have_dir(FASHION_DIR))
        skip();
    static const size_t train_hist[10] = {6000, 6000, 6000, 6000, 6000,
                                          6000, 6000, 6000, 6000, 6000};
    static const size_t test_hist[10] = {1000, 1000, 1000, 1000, 1000,
                                         1000, 1000, 1000, 1000, 1000};
    snn_dataset *d = load_real(FASHION_DIR, "train");
    assert_int_equal(d->n, 60000);
    assert_int_equal(d->rows, 28);
    assert_int_equal(d->cols, 28);
    check_hist(d, "Fashion-MNIST train", train_hist);
    snn_dataset_free(d);

    d = load_real(FASHION_DIR, "test");
    assert_int_equal(d->n, 10000);
    assert_int_equal(d->rows, 28);
    assert_int_equal(d->cols, 28);
    check_hist(d, "Fashion-MNIST t10k", test_hist);
    snn_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_max_n),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_extra_data),
        cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_no_open_files),
        cmocka_unit_test(test_mnist),
        cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
