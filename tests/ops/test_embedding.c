/* tests/ops/test_embedding.c: clg_embedding and clg_embedding_host
 * (ops/embedding.c) against a host gather, finite differences, PyTorch's
 * torch.nn.functional.embedding, and ids outside the table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static const int32_t IDS[12] = {0, 3, 3, 6, 1, 2, 2, 2, 0, 5, 6, 3}; /* repeats: sums */

static clg_tensor *run_embedding(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_embedding_host(in[0], IDS, 2, (int64_t[]){3, 4});
}

START_TEST(test_embedding_matches_host)
{
    clg_context *ctx = test_context();
    enum { V = 7, D = 5 };
    float w[V * D], g[12 * D];
    test_random(w, V * D, 1, -1, 1);
    test_random(g, 12 * D, 2, -1, 1);
    clg_tensor *weight = test_tensor(ctx, 2, (int64_t[]){V, D}, w, true);
    clg_step_begin(ctx);
    clg_tensor *ids = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 2, (int64_t[]){3, 4}, IDS);
    clg_tensor *out = clg_embedding(weight, ids);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_rank(out), 3);
    ck_assert_int_eq(clg_tensor_dim(out, 2), D);
    float *got = test_download(out);
    float want[12 * D], want_grad[V * D];
    memset(want_grad, 0, sizeof want_grad);
    for (int m = 0; m < 12; m++)
        for (int d = 0; d < D; d++) {
            want[m * D + d] = w[IDS[m] * D + d];
            want_grad[IDS[m] * D + d] += g[m * D + d];
        }
    test_assert_close(got, want, 12 * D, test_tol_get("exact"), "embedding");
    free(got);
    clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 3, (int64_t[]){3, 4, D}, g);
    ck_assert_int_eq(clg_backward_with(out, gout), CLG_STATUS_OK);
    got = test_download(clg_tensor_grad(weight));
    test_assert_close(got, want_grad, V * D, test_tol_get("default"), "d weight");
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(weight);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_embedding_gradcheck)
{
    clg_context *ctx = test_context();
    float w[7 * 3];
    test_random(w, 21, 3, -1, 1);
    clg_tensor *weight = test_tensor(ctx, 2, (int64_t[]){7, 3}, w, true);
    test_gradcheck(ctx, run_embedding, NULL, 1, &weight, test_tol_get("gradcheck"));
    clg_tensor_destroy(weight);
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_golden(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_embedding(in[0], in[1]);
}

START_TEST(test_embedding_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_recurrent");
    test_golden_case(ctx, st, "embedding", run_golden, NULL, 2, 1u << 1, test_tol_get("default"));
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_embedding_bad_id)
{
    clg_context *ctx = test_context();
    clg_tensor *weight = test_tensor(ctx, 2, (int64_t[]){7, 3}, NULL, true);
    const int32_t bad[4] = {1, 2, 7, 0};
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_embedding_host(weight, bad, 2, (int64_t[]){2, 2}),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_embedding: id 7 at position 2 of ids [2, 2] "
                      "is outside [0, 7) for weight [7, 3]");
    /* on the device: the row becomes NaN instead of reading outside */
    clg_tensor *ids = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){4}, bad);
    float *got = test_download(clg_embedding(weight, ids));
    for (int i = 0; i < 12; i++)
        ck_assert_msg((i / 3 == 2) == (isnan(got[i]) != 0), "element %d: %g", i, (double)got[i]);
    free(got);
    /* float ids */
    ck_assert_ptr_null(clg_embedding(weight, weight));
    ck_assert_str_eq(clg_context_error(ctx), "clg_embedding: weight [7, 3] must be float32 "
                                             "(V, D) and ids [7, 3] int32 of rank < 4");
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_tensor_destroy(weight);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_embedding_matches_host, test_embedding_gradcheck,
                            test_embedding_golden, test_embedding_bad_id, NULL};
    return test_main("ops/embedding", "embedding", 0, tests);
}
