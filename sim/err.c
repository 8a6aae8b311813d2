/*
 * sim/err.c: the single place errors are recorded (set a breakpoint on
 * snn_err_set to stop at the first failure).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int snn_err_set(snn_err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

void snn_err_clear(snn_err *e)
{
    if (!e)
        return;
    e->code = SNN_OK;
    e->msg[0] = '\0';
}
