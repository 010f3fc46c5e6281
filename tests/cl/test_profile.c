/* tests/cl/test_profile.c: kernel profiling (cl/profile.c,
 * clg_context_set_profiling): the kernels of a few ops appear under their
 * names with counts matching the launches; nothing is recorded while
 * profiling is off; turning it on clears. Device times are checked for what
 * holds on every driver: finite, never negative, sorted, and no more than
 * the wall time the host saw pass. Whether they are above 0 depends on the
 * driver (rusticl in Mesa 22 does not time commands; a coarse timer gives
 * short ones 0 s), so no test asks for that. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

#define MAX_ENTRIES 64

static double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const clg_profile_entry *find(const clg_profile_entry *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return &e[i];
    return NULL;
}

/* Three adds of same-shape tensors (one binary_forward launch each) and one
 * matmul, then a read: the adds count 3, the GEMM shows under its kernel's
 * name (own kernels) or "clblast_sgemm", totals match the counters, and the
 * results are still right. */
START_TEST(test_profile_counts_launches)
{
    clg_context *ctx = test_context();
    float a[6], b[12];
    test_random(a, 6, 1, -1, 1);
    test_random(b, 12, 2, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){2, 3}, a, false);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 4}, b, false);
    double wall_start = wall_seconds();
    ck_assert_int_eq(clg_context_set_profiling(ctx, true), CLG_STATUS_OK);
    clg_counters before, after;
    clg_counters_get(ctx, &before);

    clg_step_begin(ctx);
    clg_tensor *sum = clg_add(clg_add(clg_add(ta, ta), ta), ta); /* 4 a */
    clg_tensor *product = clg_matmul(ta, tb);
    ck_assert_msg(sum && product, "%s", clg_context_error(ctx));
    float *got_sum = test_download(sum);
    float *got_product = test_download(product);
    clg_counters_get(ctx, &after);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(got_sum[i], 4 * a[i], 1e-5f);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            float want = 0;
            for (int k = 0; k < 3; k++)
                want += a[i * 3 + k] * b[k * 4 + j];
            ck_assert_float_eq_tol(got_product[i * 4 + j], want, 1e-5f);
        }
    free(got_sum);
    free(got_product);
    clg_step_end(ctx);

    clg_profile_entry e[MAX_ENTRIES];
    size_t n = clg_profile_get(ctx, e, MAX_ENTRIES);
    double wall = wall_seconds() - wall_start;
    ck_assert_uint_ge(n, 2);
    ck_assert_uint_le(n, MAX_ENTRIES);
    const clg_profile_entry *add = find(e, n, "binary_add_forward_same");
    ck_assert_msg(add != NULL, "no binary_add_forward_same among %zu entries (first: %s)", n, e[0].name);
    ck_assert_uint_eq(add->count, 3);
    uint64_t own = 0, gemm = 0, clblast = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(e[i].seconds >= 0 && isfinite(e[i].seconds), "%s: %g s", e[i].name,
                      e[i].seconds);
        ck_assert_uint_gt(e[i].count, 0);
        if (i > 0) /* most time first; among equal times, most commands */
            ck_assert_msg(e[i - 1].seconds > e[i].seconds ||
                              (e[i - 1].seconds == e[i].seconds && e[i - 1].count >= e[i].count),
                          "%s (%g s, %llu) before %s (%g s, %llu)", e[i - 1].name,
                          e[i - 1].seconds, (unsigned long long)e[i - 1].count, e[i].name,
                          e[i].seconds, (unsigned long long)e[i].count);
        total += e[i].seconds;
        if (strncmp(e[i].name, "clblast_", 8) == 0)
            clblast += e[i].count;
        else if (strncmp(e[i].name, "gemm_", 5) == 0)
            gemm += e[i].count;
        else if (e[i].name[0] != '(') /* "(fill)", "(copy)" are no launches */
            own += e[i].count;
    }
    /* Every launch between the counters' reads, no more; the GEMM's kernels
     * (the own GEMM may add a transpose) or CLBlast's one event. */
    ck_assert_uint_eq(own, after.kernel_launches - before.kernel_launches);
    ck_assert_uint_eq(after.gemm_calls - before.gemm_calls, 1);
    ck_assert_msg(clblast == 1 || (clblast == 0 && gemm >= 1), "gemm %llu, clblast %llu",
                  (unsigned long long)gemm, (unsigned long long)clblast);
    /* The commands ran one after another on the in-order queue, within the
     * wall time around them: a unit slip (us or ms taken for ns) fails. */
    ck_assert_msg(total <= wall, "%g s of device time in %g s of wall time", total, wall);

    /* Turning it off keeps the totals; turning it on again clears them. */
    ck_assert_int_eq(clg_context_set_profiling(ctx, false), CLG_STATUS_OK);
    clg_step_begin(ctx);
    ck_assert_ptr_nonnull(clg_add(ta, ta));
    clg_step_end(ctx);
    ck_assert_uint_eq(clg_profile_get(ctx, e, MAX_ENTRIES), n);
    ck_assert_uint_eq(find(e, n, "binary_add_forward_same")->count, 3);
    ck_assert_int_eq(clg_context_set_profiling(ctx, true), CLG_STATUS_OK);
    ck_assert_uint_eq(clg_profile_get(ctx, e, MAX_ENTRIES), 0);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

/* Off by default: ops record nothing, and a step adds no host sync for it. */
START_TEST(test_profile_off_records_nothing)
{
    clg_context *ctx = test_context();
    float a[4] = {1, 2, 3, 4};
    clg_tensor *ta = test_tensor(ctx, 1, (int64_t[]){4}, a, false);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    clg_step_begin(ctx);
    ck_assert_ptr_nonnull(clg_mul(clg_add(ta, ta), ta));
    clg_step_end(ctx);
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.host_syncs, before.host_syncs);
    ck_assert_uint_eq(clg_profile_get(ctx, NULL, 0), 0);
    clg_tensor_destroy(ta);
    clg_context_destroy(ctx);
}
END_TEST

/* More launches than the events held at once (4096) between reads: the
 * early waits keep every launch counted. */
START_TEST(test_profile_long_run_without_reads)
{
    clg_context *ctx = test_context();
    float a[4] = {1, 2, 3, 4};
    clg_tensor *ta = test_tensor(ctx, 1, (int64_t[]){4}, a, false);
    ck_assert_int_eq(clg_context_set_profiling(ctx, true), CLG_STATUS_OK);
    enum { LAUNCHES = 5000 };
    clg_step_begin(ctx);
    for (int i = 0; i < LAUNCHES; i++)
        ck_assert_ptr_nonnull(clg_add(ta, ta));
    clg_step_end(ctx);
    clg_profile_entry e[MAX_ENTRIES];
    size_t n = clg_profile_get(ctx, e, MAX_ENTRIES);
    const clg_profile_entry *add = find(e, n < MAX_ENTRIES ? n : MAX_ENTRIES, "binary_add_forward_same");
    ck_assert_ptr_nonnull(add);
    ck_assert_uint_eq(add->count, LAUNCHES);
    clg_tensor_destroy(ta);
    clg_context_destroy(ctx);
}
END_TEST

/* CLBlast's padded route runs several kernels and returns the last one's
 * event: each GEMM is one "clblast_sgemm" entry, timed from a marker (0 s
 * on a driver that does not time, never negative nor past the wall time). */
START_TEST(test_profile_clblast_gemm)
{
    setenv("CLGRAD_GEMM", "clblast-indirect", 1);
    clg_context *ctx = test_context();
    unsetenv("CLGRAD_GEMM");
    float a[6 * 5], b[5 * 7];
    test_random(a, 30, 3, -1, 1);
    test_random(b, 35, 4, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){6, 5}, a, false);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){5, 7}, b, false);
    double wall_start = wall_seconds();
    ck_assert_int_eq(clg_context_set_profiling(ctx, true), CLG_STATUS_OK);
    clg_step_begin(ctx);
    clg_tensor *c = NULL;
    for (int i = 0; i < 3; i++)
        c = clg_matmul(ta, tb);
    ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(c);
    float want = 0;
    for (int k = 0; k < 5; k++)
        want += a[k] * b[k * 7];
    ck_assert_float_eq_tol(got[0], want, 1e-5f);
    free(got);
    clg_step_end(ctx);
    clg_profile_entry e[MAX_ENTRIES];
    size_t n = clg_profile_get(ctx, e, MAX_ENTRIES);
    double wall = wall_seconds() - wall_start;
    const clg_profile_entry *gemm = find(e, n < MAX_ENTRIES ? n : MAX_ENTRIES, "clblast_sgemm");
    ck_assert_msg(gemm != NULL, "no clblast_sgemm among %zu entries", n);
    ck_assert_uint_eq(gemm->count, 3);
    ck_assert_msg(gemm->seconds >= 0 && gemm->seconds <= wall, "3 GEMMs: %g s in %g s of wall time",
                  gemm->seconds, wall);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_profile_counts_launches, test_profile_off_records_nothing,
                            test_profile_long_run_without_reads, test_profile_clblast_gemm, NULL};
    return test_main("cl/profile", "profile", 0, tests);
}
