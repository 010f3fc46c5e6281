/* bench/gemm_bench.c: gemm-bench, GFLOP/s of clgrad's GEMM layer (cl/gemm.c,
 * cl/gemm_kernels.c, cl/blas.c) on the current device (CLGRAD_DEVICE picks it), in one run:
 *   - per zoo shape: the MLP 784-256-128-10 at batch 128, LeNet-5's im2col
 *     GEMMs at batch 64, the autoencoder 30-100-100-15-100-100-30 at batch
 *     2048, each forward product and both backward products, as the ops
 *     issue them (transposes included);
 *   - square n = 256, 512, 768, 1024;
 * for the dispatcher's choice, the best of clgrad's own parameter sets,
 * CLBlast (its own route), and, when built with OpenBLAS (Debian's
 * libopenblas-dev), OpenBLAS on one and on two threads;
 *   - one MLP training step (forward, backward, Adam) with every GEMM
 *     through the dispatcher's choice and with every GEMM through CLBlast.
 * Each figure is the best of five rounds of about 20 ms, the sides of a
 * shape taking turns (slower rounds measure other load on a shared
 * machine). Lines starting with "result" are for scripts. Run on demand;
 * never part of meson test.
 *
 * The GEMM candidates are reached through the private runtime (clrt_gemm_run
 * on the tensors' buffers), hence engine/engine.h and the library's objects
 * (clgrad_internal_dep in bench/meson.build). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgrad/clgrad.h"
#include "engine/engine.h"

#ifdef CLGRAD_BENCH_OPENBLAS
#include <cblas.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct shape {
    const char *label;
    clg_gemm_shape s;
} shape;

/* A linear layer y = x W^T (ops/matmul.c): forward NT (batch, out, in);
 * dx = g W: NN (batch, in, out); dW^T = x^T g: TN (in, out, batch). A conv
 * (ops/conv.c) with P positions (batch included), T taps, K channels and a
 * channel-major column matrix col (T, P): forward y = W col: NN (K, P, T);
 * dW = g col^T: NT (K, T, P); dcol = W^T g: TN (T, P, K). The LSTM 28 -> 128
 * of lstm-bench (batch 64, T = 100; ops/recurrent.c): per step h W_hh^T: NN
 * (N, 4H, H) and dgates W_hh: NN (N, H, 4H); over the sequence dW_hh =
 * dgates^T h: TN (4H, H, (T - 1) N). */
static const shape shapes[] = {
    {"mlp fc1 fwd", {128, 256, 784, 1, false, true}},
    {"mlp fc1 dx", {128, 784, 256, 1, false, false}},
    {"mlp fc1 dW", {256, 784, 128, 1, true, false}},
    {"mlp fc2 fwd", {128, 128, 256, 1, false, true}},
    {"mlp fc2 dx", {128, 256, 128, 1, false, false}},
    {"mlp fc2 dW", {128, 256, 128, 1, true, false}},
    {"mlp fc3 fwd", {128, 10, 128, 1, false, true}},
    {"mlp fc3 dx", {128, 128, 10, 1, false, false}},
    {"mlp fc3 dW", {10, 128, 128, 1, true, false}},
    {"lenet conv1 fwd", {6, 50176, 25, 1, false, false}},
    {"lenet conv1 dW", {6, 25, 50176, 1, false, true}},
    {"lenet conv1 dcol", {25, 50176, 6, 1, true, false}},
    {"lenet conv2 fwd", {16, 6400, 150, 1, false, false}},
    {"lenet conv2 dW", {16, 150, 6400, 1, false, true}},
    {"lenet conv2 dcol", {150, 6400, 16, 1, true, false}},
    {"ae 30-100 fwd", {2048, 100, 30, 1, false, true}},
    {"ae 30-100 dx", {2048, 30, 100, 1, false, false}},
    {"ae 30-100 dW", {30, 100, 2048, 1, true, false}},
    {"ae 100-100 fwd", {2048, 100, 100, 1, false, true}},
    {"ae 100-100 dx", {2048, 100, 100, 1, false, false}},
    {"ae 100-100 dW", {100, 100, 2048, 1, true, false}},
    {"ae 100-15 fwd", {2048, 15, 100, 1, false, true}},
    {"ae 100-15 dx", {2048, 100, 15, 1, false, false}},
    {"ae 100-15 dW", {100, 15, 2048, 1, true, false}},
    {"ae 15-100 fwd", {2048, 100, 15, 1, false, true}},
    {"ae 15-100 dx", {2048, 15, 100, 1, false, false}},
    {"ae 15-100 dW", {15, 100, 2048, 1, true, false}},
    {"ae 100-30 fwd", {2048, 30, 100, 1, false, true}},
    {"ae 100-30 dx", {2048, 100, 30, 1, false, false}},
    {"ae 100-30 dW", {100, 30, 2048, 1, true, false}},
    {"ae db100", {1, 100, 2048, 1, false, false}},
    {"ae db30", {1, 30, 2048, 1, false, false}},
    {"ae db15", {1, 15, 2048, 1, false, false}},
    {"lstm step fwd", {64, 512, 128, 1, false, false}},
    {"lstm step dh", {64, 128, 512, 1, false, false}},
    {"lstm dW_hh", {512, 128, 6336, 1, true, false}},
    {"lstm dW_ih^T", {28, 512, 6400, 1, true, false}},
    {"lstm xproj", {6400, 512, 28, 1, false, true}},
    {"lstm bias", {1, 512, 6400, 1, false, false}},
    {"lstm400 dW_hh", {512, 128, 25536, 1, true, false}},
    {"lstm400 dW_ih", {512, 28, 25600, 1, true, false}},
    {"lstm400 dx", {25600, 28, 512, 1, false, false}},
    {"lstm400 xproj", {25600, 512, 28, 1, false, true}},
    {"lstm400 bias", {1, 512, 25600, 1, false, false}},
    {"square 256", {256, 256, 256, 1, false, false}},
    {"square 512", {512, 512, 512, 1, false, false}},
    {"square 768", {768, 768, 768, 1, false, false}},
    {"square 1024", {1024, 1024, 1024, 1, false, false}},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* Operands of one shape: device tensors and, for OpenBLAS, host copies. */
typedef struct operands {
    clg_gemm_shape s;
    clg_tensor *a, *b, *c;
    clrt_matrix ma, mb, mc;
    float *ha, *hb, *hc;
} operands;

static bool operands_make(clg_context *ctx, const clg_gemm_shape *s, operands *o)
{
    int64_t m = s->m, n = s->n, k = s->k;
    *o = (operands){.s = *s};
    int64_t sa[2] = {s->trans_a ? k : m, s->trans_a ? m : k};
    int64_t sb[2] = {s->trans_b ? n : k, s->trans_b ? k : n};
    int64_t sc[2] = {m, n};
    o->ha = malloc((size_t)(m * k) * sizeof(float));
    o->hb = malloc((size_t)(k * n) * sizeof(float));
    o->hc = calloc((size_t)(m * n), sizeof(float));
    if (!o->ha || !o->hb || !o->hc)
        return false;
    for (int64_t i = 0; i < m * k; i++)
        o->ha[i] = (float)((i * 7919) % 2001 - 1000) * 1e-3f;
    for (int64_t i = 0; i < k * n; i++)
        o->hb[i] = (float)((i * 104729) % 2001 - 1000) * 1e-3f;
    o->a = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, sa, o->ha);
    o->b = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, sb, o->hb);
    o->c = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, sc, o->hc);
    if (!o->a || !o->b || !o->c)
        return false;
    o->ma = (clrt_matrix){o->a->mem, o->a->offset, (size_t)sa[1], s->trans_a};
    o->mb = (clrt_matrix){o->b->mem, o->b->offset, (size_t)sb[1], s->trans_b};
    o->mc = (clrt_matrix){o->c->mem, o->c->offset, (size_t)n, false};
    return true;
}

static void operands_free(operands *o)
{
    clg_tensor_destroy(o->a);
    clg_tensor_destroy(o->b);
    clg_tensor_destroy(o->c);
    free(o->ha);
    free(o->hb);
    free(o->hc);
}

/* One side of a comparison: a GEMM candidate run in `slices` slices of K
 * (1: whole), or OpenBLAS on `openblas` threads. */
typedef struct side {
    int candidate;
    size_t slices;
    int openblas;
} side;

static bool run_candidate(clg_context *ctx, const side *sd, const operands *o, int reps)
{
    const clg_gemm_shape *s = &o->s;
    for (int r = 0; r < reps; r++)
        if (clrt_gemm_split_run(&ctx->rt, sd->candidate, sd->slices,
                                (clrt_gemm_desc){.m = (size_t)s->m,
                                                 .n = (size_t)s->n,
                                                 .k = (size_t)s->k,
                                                 .a = o->ma,
                                                 .b = o->mb,
                                                 .c = o->mc}) != CLG_STATUS_OK)
            return false;
    return clg_finish(ctx) == CLG_STATUS_OK;
}

#ifdef CLGRAD_BENCH_OPENBLAS
static bool run_openblas(clg_context *ctx, int threads, const operands *o, int reps)
{
    (void)ctx;
    const clg_gemm_shape *s = &o->s;
    openblas_set_num_threads(threads);
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, s->trans_a ? CblasTrans : CblasNoTrans,
                    s->trans_b ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f,
                    o->ha, (int)o->ma.ld, o->hb, (int)o->mb.ld, 0.0f, o->hc, (int)s->n);
    return true;
}
#endif

static bool run_side(clg_context *ctx, const side *sd, const operands *o, int reps)
{
#ifdef CLGRAD_BENCH_OPENBLAS
    if (sd->openblas > 0)
        return run_openblas(ctx, sd->openblas, o, reps);
#endif
    return run_candidate(ctx, sd, o, reps);
}

/* GFLOP/s of each side (0 when it fails): after a warm-up (kernel builds)
 * and a timed run that sizes the rounds, the best of ROUNDS rounds of about
 * 20 ms, the sides taking turns round by round, so that a burst of other
 * load on a shared machine slows one round of every side rather than every
 * round of one side. */
#define ROUNDS 5

static void measure(clg_context *ctx, const side *sides, int n_sides, const operands *o, double *gf)
{
    double flops = 2.0 * (double)o->s.m * (double)o->s.n * (double)o->s.k;
    int reps[64];
    double best[64];
    for (int i = 0; i < n_sides; i++) {
        best[i] = 1e30;
        reps[i] = 0;
        if (!run_side(ctx, &sides[i], o, 1))
            continue;
        double t0 = now();
        if (!run_side(ctx, &sides[i], o, 1))
            continue;
        double one = now() - t0;
        reps[i] = (int)(0.02 / (one > 1e-6 ? one : 1e-6)) + 1;
    }
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < n_sides; i++) {
            if (reps[i] == 0)
                continue;
            double t0 = now();
            if (!run_side(ctx, &sides[i], o, reps[i])) {
                reps[i] = 0;
                best[i] = 1e30;
                continue;
            }
            double t = (now() - t0) / reps[i];
            best[i] = t < best[i] ? t : best[i];
        }
    for (int i = 0; i < n_sides; i++)
        gf[i] = reps[i] > 0 ? flops / best[i] * 1e-9 : 0.0;
}

static const char *shape_text(const clg_gemm_shape *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%lldx%lldx%lld %c%c", (long long)s->m, (long long)s->n, (long long)s->k,
             s->trans_a ? 'T' : 'N', s->trans_b ? 'T' : 'N');
    return buf;
}

static int bench_shapes(clg_context *ctx, bool all_own, const char *only)
{
    int clblast = clrt_gemm_candidate_find("clblast");
    printf("GEMM GFLOP/s (m x n x k, op(A) op(B)); device: %s\n", clg_context_device_name(ctx));
    printf("%-18s %-18s %-18s %3s %8s %-18s %8s", "shape", "m x n x k", "choice", "S", "whole",
           "best own", "clblast");
#ifdef CLGRAD_BENCH_OPENBLAS
    printf(" %8s %8s %9s", "oblas1", "oblas2", "own/ob1");
#endif
    printf("\n");
    double sum_time[2] = {0, 0}; /* MLP step GEMMs: choice, clblast */
    for (size_t i = 0; i < N_SHAPES; i++) {
        if (only && !strstr(shapes[i].label, only))
            continue;
        operands o;
        if (!operands_make(ctx, &shapes[i].s, &o)) {
            fprintf(stderr, "gemm-bench: %s: %s\n", shapes[i].label, clg_context_error(ctx));
            return 1;
        }
        /* The sides: the choice as clrt_gemm runs it (in the launch plan's
         * slices of K), CLBlast, the choice whole (unsplit), OpenBLAS on one
         * and two threads, then (unless --quick) every other own candidate,
         * whole. */
        int choice = clrt_gemm_pick(&ctx->rt, &o.s);
        size_t slices = clrt_gemm_slices(&ctx->rt, &o.s);
        side sides[64] = {
            {choice, slices, 0}, {clblast, 1, 0}, {choice, 1, 0}, {0, 1, 1}, {0, 1, 2}};
        int n_sides = 3;
#ifdef CLGRAD_BENCH_OPENBLAS
        n_sides = 5;
#endif
        int first_own = n_sides;
        for (int c = 0; c < clrt_gemm_candidate_count() && all_own && n_sides < 64; c++) {
            clrt_gemm_kind kind = clrt_gemm_candidate_get(c)->kind;
            if ((kind == CLRT_GEMM_OUTER || kind == CLRT_GEMM_DOT) && c != choice)
                sides[n_sides++] = (side){c, 1, 0};
        }
        double gf[64];
        measure(ctx, sides, n_sides, &o, gf);
        double choice_gf = gf[0], clblast_gf = gf[1], whole_gf = gf[2];
        bool choice_own = clrt_gemm_candidate_get(choice)->kind == CLRT_GEMM_OUTER ||
                          clrt_gemm_candidate_get(choice)->kind == CLRT_GEMM_DOT;
        int best = choice_own ? choice : -1;
        double best_gf = choice_own ? whole_gf : 0.0;
        for (int i = first_own; i < n_sides; i++)
            if (gf[i] > best_gf) {
                best = sides[i].candidate;
                best_gf = gf[i];
            }
        char text[64], best_text[40];
        snprintf(best_text, sizeof best_text, "%s %.1f",
                 best >= 0 ? clrt_gemm_candidate_get(best)->name : "-", best_gf);
        printf("%-18s %-18s %-11s %6.1f %3zu %8.1f %-18s %8.1f", shapes[i].label,
               shape_text(&o.s, text, sizeof text), clrt_gemm_candidate_get(choice)->name,
               choice_gf, slices, whole_gf, best_text, clblast_gf);
        double ob1 = n_sides >= 5 ? gf[3] : 0, ob2 = n_sides >= 5 ? gf[4] : 0;
#ifdef CLGRAD_BENCH_OPENBLAS
        printf(" %8.1f %8.1f %9.2f", ob1, ob2, ob1 > 0 ? choice_gf / ob1 : 0.0);
#endif
        printf("\n");
        printf("result gemm shape=%s choice=%s choice_gflops=%.2f slices=%zu whole_gflops=%.2f "
               "best_own=%s best_own_gflops=%.2f clblast_gflops=%.2f openblas1_gflops=%.2f "
               "openblas2_gflops=%.2f\n",
               shape_text(&o.s, text, sizeof text), clrt_gemm_candidate_get(choice)->name,
               choice_gf, slices, whole_gf, best >= 0 ? clrt_gemm_candidate_get(best)->name : "-",
               best_gf, clblast_gf, ob1, ob2);
        if (strncmp(shapes[i].label, "mlp", 3) == 0 && strcmp(shapes[i].label, "mlp fc1 dx")) {
            double flops = 2.0 * (double)o.s.m * (double)o.s.n * (double)o.s.k;
            sum_time[0] += choice_gf > 0 ? flops / (choice_gf * 1e9) : 0;
            sum_time[1] += clblast_gf > 0 ? flops / (clblast_gf * 1e9) : 0;
        }
        operands_free(&o);
    }
    printf("MLP step GEMMs (8 products; fc1 has no dx): choice %.2f ms, clblast %.2f ms\n",
           sum_time[0] * 1e3, sum_time[1] * 1e3);
    return 0;
}

/* ---- split K: the choice in 1, 2, 4, ... 64 slices of K ---- */

/* Shapes with few outputs over a long K (fewer than 16,384 outputs, K >=
 * 128: where a launch plan may split), unless --only names others. */
static int bench_split(clg_context *ctx, const char *only)
{
    static const size_t powers[] = {1, 2, 4, 8, 16, 32, 64};
    enum { N_COUNTS = sizeof powers / sizeof powers[0] + 1 };
    printf("split K: GFLOP/s of the choice in S slices of K (plan %s splits in S*)\n",
           ctx->rt.plan.name);
    printf("%-18s %-18s %-11s", "shape", "m x n x k", "choice");
    for (int i = 0; i < N_COUNTS - 1; i++)
        printf(" %6s%-2zu", "S=", powers[i]);
    printf("  S*\n");
    for (size_t i = 0; i < N_SHAPES; i++) {
        const clg_gemm_shape *s = &shapes[i].s;
        if (only ? !strstr(shapes[i].label, only) : (s->m * s->n >= 16384 || s->k < 128))
            continue;
        operands o;
        if (!operands_make(ctx, s, &o)) {
            fprintf(stderr, "gemm-bench: %s: %s\n", shapes[i].label, clg_context_error(ctx));
            return 1;
        }
        int choice = clrt_gemm_pick(&ctx->rt, s);
        size_t planned = clrt_gemm_slices(&ctx->rt, s);
        /* Whole, the powers of two while slices keep 8 rows of K, then the plan's
         * count where it is none of those. */
        size_t counts[N_COUNTS];
        int n_sides = 0;
        bool listed = false;
        for (size_t c = 0; c < N_COUNTS - 1 && (c == 0 || (size_t)s->k / powers[c] >= 8); c++) {
            counts[n_sides++] = powers[c];
            listed = listed || powers[c] == planned;
        }
        if (!listed)
            counts[n_sides++] = planned;
        side sides[N_COUNTS];
        for (int c = 0; c < n_sides; c++)
            sides[c] = (side){choice, counts[c], 0};
        double gf[N_COUNTS];
        measure(ctx, sides, n_sides, &o, gf);
        char text[64];
        printf("%-18s %-18s %-11s", shapes[i].label, shape_text(s, text, sizeof text),
               clrt_gemm_candidate_get(choice)->name);
        for (int c = 0; c < n_sides; c++) {
            if (!listed && c == n_sides - 1) /* under S*, past the missing powers */
                printf("%*s S=%zu", 9 * (N_COUNTS - n_sides), "", planned);
            printf(" %7.1f%s", gf[c], counts[c] == planned ? "*" : " ");
        }
        printf("\n");
        for (int c = 0; c < n_sides; c++)
            printf("result split plan=%s shape=%s choice=%s slices=%zu planned=%zu gflops=%.2f\n",
                   ctx->rt.plan.name, shape_text(s, text, sizeof text),
                   clrt_gemm_candidate_get(choice)->name, counts[c], planned, gf[c]);
        operands_free(&o);
    }
    return 0;
}

/* ---- one MLP training step, GEMMs through the choice or CLBlast ---- */

static double mlp_step_ms(clg_context *ctx, clg_model *model, clg_optim *opt, const float *x,
                          const int32_t *y)
{
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        int steps = 20;
        for (int s = 0; s < steps; s++) {
            clg_step_begin(ctx);
            clg_tensor *tx = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){128, 784}, x);
            clg_tensor *ty = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){128}, y);
            clg_tensor *loss =
                clg_cross_entropy_loss(clg_model_forward(model, tx), ty, CLG_REDUCTION_MEAN);
            clg_optim_zero_grad(opt);
            clg_backward(loss);
            clg_optim_step(opt);
            float value;
            if (clg_tensor_item(loss, &value) != CLG_STATUS_OK)
                return 0.0;
            clg_step_end(ctx);
        }
        double t = (now() - t0) / steps;
        best = t < best ? t : best;
    }
    return best * 1e3;
}

static int bench_mlp(const char *gemm)
{
    if (gemm)
        setenv("CLGRAD_GEMM", gemm, 1);
    else
        unsetenv("CLGRAD_GEMM");
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        fprintf(stderr, "gemm-bench: %s\n", ctx ? clg_context_error(ctx) : "out of memory");
        clg_context_destroy(ctx);
        return 1;
    }
    clg_model *model = clg_zoo_mlp_create(ctx, 784, (int64_t[]){256, 128}, 2, 10, 1);
    clg_optim_options oo = clg_optim_options_default(CLG_OPTIM_ADAM);
    clg_optim *opt = model ? clg_optim_create(ctx, clg_model_params(model), &oo) : NULL;
    float *x = malloc(128 * 784 * sizeof *x);
    int32_t y[128];
    for (int i = 0; i < 128 * 784; i++)
        x[i] = (float)((i * 31) % 255) / 255.0f;
    for (int i = 0; i < 128; i++)
        y[i] = i % 10;
    double ms = opt ? mlp_step_ms(ctx, model, opt, x, y) : 0.0; /* includes a warm-up round */
    ms = opt ? mlp_step_ms(ctx, model, opt, x, y) : 0.0;
    if (ms <= 0.0)
        fprintf(stderr, "gemm-bench: mlp step: %s\n", clg_context_error(ctx));
    else
        printf("MLP 784-256-128-10 training step, batch 128, Adam, GEMMs through %s: %.2f ms\n"
               "result mlp_step gemm=%s ms=%.3f\n",
               gemm ? gemm : "the dispatcher's choice", ms, gemm ? gemm : "choice", ms);
    free(x);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
    return ms > 0.0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* Before the first OpenCL call (see the clgrad command's help). */
    setenv("POCL_AFFINITY", "1", 0);
    bool all_own = true, shapes_on = true, mlp_on = true, split_on = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            all_own = false;
        else if (strcmp(argv[i], "--no-shapes") == 0)
            shapes_on = false;
        else if (strcmp(argv[i], "--no-mlp") == 0)
            mlp_on = false;
        else if (strcmp(argv[i], "--split") == 0)
            split_on = true;
        else {
            fprintf(stderr, "usage: gemm-bench [--quick] [--only TEXT] [--no-shapes] [--no-mlp] "
                            "[--split]\n"
                            "  --quick      time only the dispatcher's choice among clgrad's "
                            "kernels, not every parameter set\n"
                            "  --only TEXT  only the shapes whose label contains TEXT "
                            "(mlp, lenet, ae, square, fwd, ...)\n"
                            "  --split      also time the choice in 1 to 64 slices of K, for "
                            "the shapes with\n"
                            "               few outputs over a long K (or those --only names)\n");
            return 2;
        }
    }
    printf("POCL_AFFINITY=%s OPENBLAS_CORETYPE=%s\n", getenv("POCL_AFFINITY"),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");
    const char *forced = getenv("CLGRAD_GEMM");
    if (forced)
        printf("CLGRAD_GEMM=%s: the choice column is that candidate\n", forced);
    int rc = 0;
    if (shapes_on || split_on) {
        clg_context *ctx = NULL;
        if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
            fprintf(stderr, "gemm-bench: %s\n", ctx ? clg_context_error(ctx) : "out of memory");
            clg_context_destroy(ctx);
            return 1;
        }
        rc = shapes_on ? bench_shapes(ctx, all_own, only) : 0;
        if (rc == 0 && split_on)
            rc = bench_split(ctx, only);
        clg_context_destroy(ctx);
    }
    if (mlp_on && rc == 0) {
        char *saved = forced ? strdup(forced) : NULL;
        rc = bench_mlp(saved);
        if (rc == 0 && !saved)
            rc = bench_mlp("clblast");
        free(saved);
    }
    return rc;
}
