/*
 * sim/err.h: status codes and the error record every library call fills.
 *
 * Library code never prints or exits: it fills an snn_err and returns its code.
 * Only sim/main.c prints messages and chooses the process exit status
 * (SNN_ECFG -> 2, everything else -> 1).
 */
#ifndef SNN_ERR_H
#define SNN_ERR_H

enum {
    SNN_OK = 0,
    SNN_ECFG = 2,      /* parameter file or command-line parameter error */
    SNN_EIO = 3,       /* file system, HDF5 or dataset error */
    SNN_ENOMEM = 4,    /* allocation failed */
    SNN_EMODEL = 5,    /* model cross-parameter check failed (prepare) */
    SNN_EINTR = 6,     /* interrupted by a signal */
    SNN_EINTERNAL = 7  /* broken invariant: a bug */
};

typedef struct snn_err {
    int code;
    char msg[1024];
} snn_err;

/* Fill `e` (if not NULL) with `code` and a printf-style message, replacing
   any earlier message (copy it first to keep it as context); returns code. */
int snn_err_set(snn_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear `e` to SNN_OK with an empty message. */
void snn_err_clear(snn_err *e);

#define SNN_FAIL(e, code, ...) return snn_err_set((e), (code), __VA_ARGS__)

#endif
