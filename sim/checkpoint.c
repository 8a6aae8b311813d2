/*
 * sim/checkpoint.c: run checkpoints (sim/checkpoint.h).
 */
#include "checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "../io/cfg.h"
#include "state.h"

int snn_ckpt_put_blob(snn_ckpt *c, const char *name, const void *buf, size_t len, snn_err *err)
{
    snn_state_io io = snn_ckpt_io(c);
    return io.put(io.ud, name, SNN_ST_U8, buf, len, err);
}

int snn_ckpt_get_blob(snn_ckpt *c, const char *name, unsigned char **buf, size_t *len,
                      snn_err *err)
{
    snn_state_io io = snn_ckpt_io(c);
    *buf = NULL;
    int rc = io.len(io.ud, name, len, err);
    if (rc)
        return rc;
    if (!(*buf = malloc(*len ? *len : 1)))
        SNN_FAIL(err, SNN_ENOMEM, "out of memory reading checkpoint item '%s'", name);
    if ((rc = io.get(io.ud, name, SNN_ST_U8, *buf, *len, err))) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int snn_checkpoint_write(const char *path, const snn_spec *sp, const snn_net *net, snn_rec *rec,
                         snn_h5 *out, const char *stage, snn_ckpt_extra_fn extra, void *ud,
                         snn_err *err)
{
    int rc = rec ? snn_rec_flush(rec, err) : SNN_OK;
    unsigned char *img = NULL;
    size_t len = 0;
    if (rc || (out && (rc = snn_h5_image(out, &img, &len, err))))
        return rc;
    snn_ckpt *c = NULL;
    if ((rc = snn_ckpt_create(&c, path, err))) {
        free(img);
        return rc;
    }
    snn_state_io io = snn_ckpt_io(c);
    if (!(rc = snn_ckpt_put_str(c, "config", sp->resolved ? sp->resolved : "", err)) &&
        !(rc = snn_ckpt_put_str(c, "stage", stage, err)) &&
        !(rc = net ? snn_net_state_save(net, &io, err) : SNN_OK) &&
        !(rc = out ? snn_ckpt_put_blob(c, "output/image", img, len, err) : SNN_OK) && extra)
        rc = extra(ud, c, err);
    free(img);
    int rc2 = snn_ckpt_close(c, rc == SNN_OK, rc ? NULL : err);
    return rc ? rc : rc2;
}

int snn_checkpoint_open(const char *path, snn_ckpt **c, snn_spec **sp, char **stage,
                        const char *const *overrides, size_t n_overrides, snn_err *err)
{
    *c = NULL;
    *sp = NULL;
    *stage = NULL;
    /* Only what cannot change a result: the thread count, and whether
       learning phases use the threads (bit-identical either way). */
    for (size_t i = 0; i < n_overrides; i++)
        if (strncmp(overrides[i], "simulation.threads=", 19) != 0 &&
            strncmp(overrides[i], "simulation.parallel_learning=", 29) != 0)
            SNN_FAIL(err, SNN_ECFG, "--resume: '%s' cannot change a run being resumed (only "
                     "simulation.threads and simulation.parallel_learning can)", overrides[i]);
    char *text = NULL;
    int rc = snn_ckpt_open(c, path, err);
    if (!rc)
        rc = snn_ckpt_get_str(*c, "config", &text, err);
    if (!rc)
        rc = snn_ckpt_get_str(*c, "stage", stage, err);
    if (!rc)
        rc = snn_cfg_load_string(text, path, overrides, n_overrides, sp, err);
    free(text);
    if (rc) {
        snn_ckpt_close(*c, 0, NULL);
        *c = NULL;
        free(*stage);
        *stage = NULL;
    }
    return rc;
}

int snn_checkpoint_restore(snn_ckpt *c, const snn_spec *sp, snn_net *net, snn_h5 **out,
                           snn_err *err)
{
    *out = NULL;
    snn_state_io io = snn_ckpt_io(c);
    int rc = net ? snn_net_state_load(net, &io, err) : SNN_OK;
    unsigned char *img = NULL;
    size_t len = 0;
    if (!rc)
        rc = snn_ckpt_get_blob(c, "output/image", &img, &len, err);
    if (!rc)
        rc = snn_h5_resume(out, sp->output, sp->compression, img, len, err);
    free(img);
    return rc;
}
