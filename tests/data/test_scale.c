/* tests/data/test_scale.c: MinMax scaling (data/scale.c) against a hand
 * case, and its refusal of an empty fit. */
#include <string.h>

#include "support.h"

/* Fitted on rows 0 and 2 only: column 0 spans [1, 3], column 1 is constant
 * (5) and maps to 0; row 1 (value 7) lies outside and is not clipped:
 * (7 - 1) / 2 = 3. */
START_TEST(test_minmax_hand_case)
{
    clg_context *ctx = test_context();
    const float x[] = {1, 5, 7, 9, 3, 5};
    const int64_t rows[] = {0, 2};
    float lo[2], hi[2], out[6];
    ck_assert_int_eq(clg_minmax_fit(ctx, x, 2, rows, 2, lo, hi), CLG_STATUS_OK);
    ck_assert(lo[0] == 1 && hi[0] == 3 && lo[1] == 5 && hi[1] == 5);
    clg_minmax_transform(lo, hi, 2, x, 3, out);
    const float want[] = {0, 0, 3, 4, 1, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], want[i]);
    ck_assert_int_eq(clg_minmax_fit(ctx, x, 2, rows, 0, lo, hi), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_minmax_fit: 0 rows"));
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_minmax_hand_case, NULL};
    return test_main("data/scale", "scale", 0, tests);
}
