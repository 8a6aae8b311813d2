/*
 * io/idx.h: the IDX dataset reader (MNIST, Fashion-MNIST and look-alikes).
 *
 * An IDX file is big-endian: a 4-byte magic 0x00 0x00 <type> <dims>, then
 * <dims> uint32 sizes, then the elements in row-major order.  Only element
 * type 0x08 (unsigned byte) is read:
 *   images  magic 0x00000803, sizes n, rows, cols, then n*rows*cols pixels
 *   labels  magic 0x00000801, size  n,             then n labels
 * A file may be gzip-compressed or raw; which one is decided by its first
 * bytes (the gzip magic 0x1f 0x8b), never by its name.
 *
 * The loaded set is plain data owned by the caller: free it with
 * snn_dataset_free.  Label values are kept as stored (no check against 0..9).
 */
#ifndef SNN_IDX_H
#define SNN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/err.h"

/* Sanity limits on an IDX header: a side longer than SNN_IDX_MAX_SIDE or a
   set of more than SNN_IDX_MAX_BYTES pixels is refused as corrupt. */
#define SNN_IDX_MAX_SIDE 4096u
#define SNN_IDX_MAX_BYTES ((uint64_t)1 << 32)

typedef struct snn_dataset {
    size_t n, rows, cols;
    uint8_t *images; /* n*rows*cols, row-major: image i starts at i*rows*cols */
    uint8_t *labels; /* n */
} snn_dataset;

/* Load the first `max_n` samples (0 = all) of an image file and its label
   file.  Both headers are checked (magic, element type, sizes, equal counts)
   before any data is read; the data is read straight into the final
   buffers.  When every sample is loaded, the files must end right after the
   data.  Paths are borrowed.  On success *out is a new set taken by the
   caller (snn_dataset_free); on failure *out is NULL, nothing is left
   allocated or open, and `err` names the file: SNN_EIO for a missing,
   malformed, truncated or corrupt file, SNN_ENOMEM if the buffers cannot be
   allocated. */
int snn_idx_load(const char *images_path, const char *labels_path, size_t max_n,
                 snn_dataset **out, snn_err *err);

/* Load split "train" or "t10k" (alias "test") from directory `dir`, which
   holds <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte, each raw or
   with a .gz suffix (the raw file is preferred when both exist).  A missing
   file is reported with the directory and the names tried; an unknown split
   is SNN_ECFG.  Otherwise as snn_idx_load. */
int snn_idx_load_dir(const char *dir, const char *split, size_t max_n, snn_dataset **out,
                     snn_err *err);

/* Free a set from snn_idx_load*; NULL does nothing. */
void snn_dataset_free(snn_dataset *d);

#endif
