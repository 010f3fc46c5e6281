/* tests/optim/test_checkpoint.c: training checkpoints (optim/checkpoint.c).
 * For every kind of optimizer, and the options that add state (momentum,
 * centered RMSprop, weight decay): K steps, save, load into fresh tensors
 * and a fresh optimizer, and the next steps equal the uninterrupted ones bit
 * for bit, parameters, state and step counts (the two final checkpoints are
 * the same bytes). Then the file's layout and every refusal of the loader,
 * which must leave the parameters as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

enum { BEFORE = 3, AFTER = 2, N_PARAMS = 2 };

static const int64_t weight_shape[2] = {3, 70}; /* more than one work-group */
static const int64_t bias_shape[1] = {3};

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/clgrad-optim-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(command), 0);
}

/* A two-parameter "model" with given or random values. */
typedef struct toy {
    clg_tensor *t[N_PARAMS];
    clg_params *params;
} toy;

static toy toy_create(clg_context *ctx, uint64_t seed)
{
    toy m;
    const int64_t *shapes[N_PARAMS] = {weight_shape, bias_shape};
    const int ranks[N_PARAMS] = {2, 1};
    const char *names[N_PARAMS] = {"fc1.weight", "fc1.bias"};
    m.params = clg_params_create(ctx);
    for (int i = 0; i < N_PARAMS; i++) {
        size_t n = (size_t)(ranks[i] == 2 ? shapes[i][0] * shapes[i][1] : shapes[i][0]);
        float *values = malloc(n * sizeof *values);
        test_random(values, n, seed + (uint64_t)i, -1, 1);
        m.t[i] = test_tensor(ctx, ranks[i], shapes[i], values, false);
        free(values);
        ck_assert_int_eq(clg_params_add(m.params, names[i], m.t[i]), CLG_STATUS_OK);
    }
    return m;
}

static void toy_destroy(toy *m)
{
    clg_params_destroy(m->params);
    for (int i = 0; i < N_PARAMS; i++)
        clg_tensor_destroy(m->t[i]);
}

/* Step `k`'s gradient of parameter i, the same on every run: one backward
 * of sum(p * G) per parameter, each in a step of its own. */
static void set_gradient(clg_context *ctx, clg_tensor *p, int k, int i)
{
    int64_t n = clg_tensor_numel(p);
    float *g = malloc((size_t)n * sizeof *g);
    test_random(g, (size_t)n, 1000 + 10 * (uint64_t)k + (uint64_t)i, -1, 1);
    clg_step_begin(ctx);
    clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, &n, g);
    clg_tensor *out = clg_mul(clg_reshape(p, 1, &n), tg);
    clg_tensor *ones = clg_tensor_full(ctx, 1, &n, 1.0f);
    ck_assert_msg(out && ones && clg_backward_with(out, ones) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    clg_step_end(ctx);
    free(g);
}

/* Steps first..last-1; fc1.bias sits out step 0 (no gradient), so the two
 * step counts differ and both have to come back. */
static void run_steps(clg_context *ctx, toy *m, clg_optim *opt, int first, int last)
{
    for (int k = first; k < last; k++) {
        clg_optim_zero_grad(opt);
        for (int i = 0; i < N_PARAMS; i++)
            if (k > 0 || i == 0)
                set_gradient(ctx, m->t[i], k, i);
        ck_assert_msg(clg_optim_step(opt) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    }
}

static unsigned char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    unsigned char *bytes = malloc((size_t)*size);
    ck_assert_int_eq(fread(bytes, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return bytes;
}

static void assert_same_file(const char *a, const char *b)
{
    long na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    ck_assert_int_eq(na, nb);
    ck_assert_msg(memcmp(x, y, (size_t)na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

static void assert_bitwise_equal(const clg_tensor *a, const clg_tensor *b, const char *what)
{
    float *x = test_download(a), *y = test_download(b);
    size_t n = (size_t)clg_tensor_numel(a);
    ck_assert_msg(memcmp(x, y, n * sizeof *x) == 0, "%s differs after resuming", what);
    free(x);
    free(y);
}

/* The configurations: every kind, and every state tensor at least once. */
static clg_optim_options config(int c, const char **label)
{
    static const char *labels[] = {
        "sgd",     "sgd-momentum-dampening-decay",    "momentum", "nesterov",
        "rmsprop", "rmsprop-centered-momentum-decay", "adam",     "adam-decay",
        "adamw"};
    static const clg_optim_kind kinds[] = {
        CLG_OPTIM_SGD,      CLG_OPTIM_SGD,     CLG_OPTIM_MOMENTUM,
        CLG_OPTIM_NESTEROV, CLG_OPTIM_RMSPROP, CLG_OPTIM_RMSPROP,
        CLG_OPTIM_ADAM,     CLG_OPTIM_ADAM,    CLG_OPTIM_ADAMW};
    clg_optim_options o = clg_optim_options_default(kinds[c]);
    if (c == 1) {
        o.momentum = 0.8f;
        o.dampening = 0.25f;
        o.weight_decay = 0.01f;
    } else if (c == 5) {
        o.centered = true;
        o.momentum = 0.5f;
        o.weight_decay = 0.01f;
    } else if (c == 7) {
        o.weight_decay = 0.05f;
    }
    *label = labels[c];
    return o;
}
#define N_CONFIGS 9

START_TEST(test_checkpoint_resume_is_bitwise)
{
    clg_context *ctx = test_context();
    make_dir();
    int kinds_seen = 0;
    for (int c = 0; c < N_CONFIGS; c++) {
        const char *label;
        clg_optim_options o = config(c, &label);
        kinds_seen |= 1 << o.kind;
        char saved[128], whole[128], resumed[128];
        snprintf(saved, sizeof saved, "%s/%s-saved.safetensors", dir, label);
        snprintf(whole, sizeof whole, "%s/%s-whole.safetensors", dir, label);
        snprintf(resumed, sizeof resumed, "%s/%s-resumed.safetensors", dir, label);

        /* The uninterrupted run, saving on the way. */
        toy a = toy_create(ctx, 1);
        clg_optim *opt_a = clg_optim_create(ctx, a.params, &o);
        ck_assert_msg(opt_a != NULL, "%s: %s", label, clg_context_error(ctx));
        run_steps(ctx, &a, opt_a, 0, BEFORE);
        const char *keys[] = {"note"}, *values[] = {label};
        ck_assert_msg(clg_optim_checkpoint_save(opt_a, saved, keys, values, 1) == CLG_STATUS_OK,
                      "%s: %s", label, clg_context_error(ctx));
        run_steps(ctx, &a, opt_a, BEFORE, BEFORE + AFTER);

        /* Other starting values and a fresh optimizer: all of it must come
         * from the file. */
        toy b = toy_create(ctx, 77);
        clg_optim *opt_b = clg_optim_create(ctx, b.params, &o);
        ck_assert_msg(clg_optim_checkpoint_load(opt_b, saved) == CLG_STATUS_OK, "%s: %s", label,
                      clg_context_error(ctx));
        run_steps(ctx, &b, opt_b, BEFORE, BEFORE + AFTER);

        assert_bitwise_equal(a.t[0], b.t[0], label);
        assert_bitwise_equal(a.t[1], b.t[1], label);
        ck_assert_int_eq(clg_optim_checkpoint_save(opt_a, whole, keys, values, 1), CLG_STATUS_OK);
        ck_assert_int_eq(clg_optim_checkpoint_save(opt_b, resumed, keys, values, 1), CLG_STATUS_OK);
        assert_same_file(whole, resumed); /* state and step counts too */

        clg_optim_destroy(opt_a);
        clg_optim_destroy(opt_b);
        toy_destroy(&a);
        toy_destroy(&b);
    }
    ck_assert_int_eq(kinds_seen, 0x3f);
    remove_dir();
    clg_context_destroy(ctx);
}
END_TEST

/* The layout README and optim.h promise: the weights under their own names
 * (a plain checkpoint), the state under "optim.", the step counts and
 * options in the metadata, the caller's keys kept. */
START_TEST(test_checkpoint_layout)
{
    clg_context *ctx = test_context();
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/adam.safetensors", dir);
    toy a = toy_create(ctx, 1);
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    o.lr = 0.0123f;
    clg_optim *opt = clg_optim_create(ctx, a.params, &o);
    run_steps(ctx, &a, opt, 0, 2);
    const char *keys[] = {"model", "epoch"}, *values[] = {"toy", "7"};
    ck_assert_int_eq(clg_optim_checkpoint_save(opt, path, keys, values, 2), CLG_STATUS_OK);

    clg_safetensors *st = clg_safetensors_read(ctx, path);
    ck_assert_msg(st != NULL, "%s", clg_context_error(ctx));
    ck_assert_uint_eq(clg_safetensors_count(st), 6);
    const char *tensors[] = {"fc1.weight",
                             "fc1.bias",
                             "optim.fc1.weight.exp_avg",
                             "optim.fc1.weight.exp_avg_sq",
                             "optim.fc1.bias.exp_avg",
                             "optim.fc1.bias.exp_avg_sq"};
    for (int i = 0; i < 6; i++) {
        int rank;
        const int64_t *shape;
        ck_assert_msg(clg_safetensors_get(st, tensors[i], NULL, &rank, &shape, NULL), "no %s",
                      tensors[i]);
        ck_assert_int_eq(rank, strstr(tensors[i], "weight") ? 2 : 1);
        ck_assert_int_eq(shape[0], 3);
    }
    ck_assert_str_eq(clg_safetensors_metadata(st, "model"), "toy");
    ck_assert_str_eq(clg_safetensors_metadata(st, "epoch"), "7");
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.kind"), "adam");
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.lr"), "0.0122999996");
    ck_assert_float_eq(strtof(clg_safetensors_metadata(st, "optim.lr"), NULL), 0.0123f);
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.beta2"), "0.999000013");
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.centered"), "false");
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.fc1.weight.step"), "2");
    ck_assert_str_eq(clg_safetensors_metadata(st, "optim.fc1.bias.step"), "1");
    clg_safetensors_destroy(st);

    /* The weights load as a plain checkpoint, the state ignored. */
    toy b = toy_create(ctx, 9);
    ck_assert_msg(clg_checkpoint_load(ctx, b.params, path) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    assert_bitwise_equal(a.t[0], b.t[0], "weights through clg_checkpoint_load");

    /* The optimizer's keys are its own. */
    const char *bad_keys[] = {"optim.kind"}, *bad_values[] = {"sgd"};
    ck_assert_int_eq(clg_optim_checkpoint_save(opt, path, bad_keys, bad_values, 1),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "\"optim.kind\""));
    clg_context_clear_error(ctx);

    /* An unwritable path: IO, naming it. */
    ck_assert_int_eq(
        clg_optim_checkpoint_save(opt, "/nonexistent/dir/x.safetensors", NULL, NULL, 0),
        CLG_STATUS_IO);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "/nonexistent/dir/x.safetensors"));
    clg_context_clear_error(ctx);

    clg_optim_destroy(opt);
    toy_destroy(&a);
    toy_destroy(&b);
    remove_dir();
    clg_context_destroy(ctx);
}
END_TEST

/* Loads `path` into a fresh toy under options o: expects `status` and a
 * message containing `words`, and the parameters untouched. */
static void expect_refused(clg_context *ctx, const char *path, clg_optim_options o,
                           clg_status status, const char *words)
{
    toy b = toy_create(ctx, 5), pristine = toy_create(ctx, 5);
    clg_optim *opt = clg_optim_create(ctx, b.params, &o);
    ck_assert_ptr_nonnull(opt);
    ck_assert_int_eq(clg_optim_checkpoint_load(opt, path), status);
    ck_assert_msg(strstr(clg_context_error(ctx), words) != NULL, "\"%s\" lacks \"%s\"",
                  clg_context_error(ctx), words);
    clg_context_clear_error(ctx);
    assert_bitwise_equal(b.t[0], pristine.t[0], "a refused load");
    assert_bitwise_equal(b.t[1], pristine.t[1], "a refused load");
    clg_optim_destroy(opt);
    toy_destroy(&b);
    toy_destroy(&pristine);
}

START_TEST(test_checkpoint_refusals)
{
    clg_context *ctx = test_context();
    make_dir();
    char momentum[128], plain[128], bad_step[128], other_shape[128];
    snprintf(momentum, sizeof momentum, "%s/momentum.safetensors", dir);
    snprintf(plain, sizeof plain, "%s/plain.safetensors", dir);
    snprintf(bad_step, sizeof bad_step, "%s/bad-step.safetensors", dir);
    snprintf(other_shape, sizeof other_shape, "%s/other-shape.safetensors", dir);

    toy a = toy_create(ctx, 1);
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_MOMENTUM);
    clg_optim *opt = clg_optim_create(ctx, a.params, &o);
    run_steps(ctx, &a, opt, 0, 2);
    ck_assert_int_eq(clg_optim_checkpoint_save(opt, momentum, NULL, NULL, 0), CLG_STATUS_OK);
    ck_assert_int_eq(clg_checkpoint_save(ctx, a.params, plain, NULL, NULL, 0), CLG_STATUS_OK);
    /* A step count that is not a number, in an otherwise good file. */
    const char *keys[] = {"optim.kind", "optim.fc1.weight.step", "optim.fc1.bias.step"};
    const char *values[] = {"sgd", "2", "1x"};
    ck_assert_int_eq(clg_checkpoint_save(ctx, a.params, bad_step, keys, values, 3), CLG_STATUS_OK);
    /* A weight of another shape. */
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){70, 3}, NULL, false);
    clg_params *ps = clg_params_create(ctx);
    clg_params_add(ps, "fc1.weight", w);
    clg_params_add(ps, "fc1.bias", a.t[1]);
    const char *kind_keys[] = {"optim.kind"}, *kind_values[] = {"momentum"};
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, other_shape, kind_keys, kind_values, 1),
                     CLG_STATUS_OK);
    clg_params_destroy(ps);
    clg_tensor_destroy(w);

    expect_refused(ctx, momentum, clg_optim_options_default(CLG_OPTIM_ADAM), CLG_STATUS_MISMATCH,
                   "the optimizer state is momentum's (\"optim.kind\"), not adam's");
    clg_optim_options no_momentum = o;
    no_momentum.momentum = 0.0f; /* momentum's kind, without its buffer */
    expect_refused(ctx, momentum, no_momentum, CLG_STATUS_MISMATCH,
                   "\"optim.fc1.weight.momentum_buffer\" is optimizer state that this momentum "
                   "optimizer does not have");
    expect_refused(ctx, plain, o, CLG_STATUS_FORMAT, "no optimizer state");
    expect_refused(ctx, bad_step, clg_optim_options_default(CLG_OPTIM_SGD), CLG_STATUS_FORMAT,
                   "metadata \"optim.fc1.bias.step\" is \"1x\"");
    expect_refused(ctx, other_shape, o, CLG_STATUS_MISMATCH,
                   "tensor \"fc1.weight\" has shape [70, 3] F32 in the checkpoint but [3, 70]");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.safetensors", dir);
    expect_refused(ctx, missing, o, CLG_STATUS_IO, "none.safetensors");

    clg_optim_destroy(opt);
    toy_destroy(&a);
    remove_dir();
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_checkpoint_resume_is_bitwise, test_checkpoint_layout,
                            test_checkpoint_refusals, NULL};
    return test_main("optim/checkpoint", "checkpoint", 0, tests);
}
