/*
 * tests/support.h: helpers shared by the cmocka tests.
 *
 * cmocka's assert_float_equal casts to float, so doubles are compared with
 * snn_assert_close(a, b, rtol, atol), which prints both values on failure.
 */
#ifndef SNN_TEST_SUPPORT_H
#define SNN_TEST_SUPPORT_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#define snn_assert_close(a, b, rtol, atol)                                              \
    do {                                                                                \
        double a_ = (a), b_ = (b);                                                      \
        double tol_ = (atol) + (rtol) * fabs(b_);                                       \
        if (!(fabs(a_ - b_) <= tol_))                                                   \
            fail_msg("%s = %.17g, expected %s = %.17g (|diff| %.3g > tol %.3g)", #a, a_, \
                     #b, b_, fabs(a_ - b_), tol_);                                      \
    } while (0)

/* Directory of the test data files and of the built snn binary (set by CMake). */
#ifndef SNN_TEST_DATA
#define SNN_TEST_DATA "tests/data"
#endif
#ifndef SNN_BIN
#define SNN_BIN "snn"
#endif

#endif
