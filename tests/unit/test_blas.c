/*
 * tests/unit/test_blas.c: GSL's BLAS calls reach OpenBLAS (the OpenMP
 * build), not the reference libgslcblas, and compute the right product.
 */
#define _GNU_SOURCE
#include "../support.h"

#include <dlfcn.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cblas.h>

static void test_cblas_is_openblas(void **state)
{
    (void)state;
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "cblas_dgemm");
    assert_non_null(sym);
    assert_true(dladdr(sym, &info) != 0);
    print_message("cblas_dgemm comes from %s\n", info.dli_fname);
    assert_non_null(strstr(info.dli_fname, "openblas"));
    assert_null(strstr(info.dli_fname, "gslcblas"));
}

static void test_dgemm_product(void **state)
{
    (void)state;
    double a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12}, c[4] = {0};
    gsl_matrix_view A = gsl_matrix_view_array(a, 2, 3), B = gsl_matrix_view_array(b, 3, 2),
                    C = gsl_matrix_view_array(c, 2, 2);
    assert_int_equal(gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &A.matrix, &B.matrix, 0.0,
                                    &C.matrix),
                     0);
    double want[] = {58, 64, 139, 154};
    for (int i = 0; i < 4; i++)
        snn_assert_close(c[i], want[i], 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cblas_is_openblas),
        cmocka_unit_test(test_dgemm_product),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
