/* data/fraud.c: the credit-card fraud data beyond reading it (data/csv.c
 * reads it): the lecture's split (half of the normal rows to train on, the
 * other half and every fraud to test on) and a seeded generator of synthetic
 * files in the public file's layout, since the real file is in no package. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clgrad/data.h"
#include "engine/engine.h"
#include "engine/random.h"

/* ---- the lecture's split ---- */

/* Fisher-Yates over the normal rows with a splitmix64 stream of `seed`
 * (eng_shuffle). */
CLG_API clg_status clg_fraud_split(clg_context *ctx, const clg_fraud_data *data, uint64_t seed,
                                   int64_t *train, int64_t *n_train, int64_t *test, int64_t *n_test)
{
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (!data || !train || !test || !n_train || !n_test)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_fraud_split: data and the four outputs must not be NULL");
    const int32_t *label = clg_fraud_data_labels(data);
    int64_t rows = clg_fraud_data_rows(data);
    int64_t normal = 0;
    for (int64_t i = 0; i < rows; i++) {
        if (label[i] == 0)
            train[normal++] = i; /* the normal rows, shuffled below */
    }
    eng_shuffle(train, normal, seed);
    /* The larger half to train on (for odd counts), the rest to test. */
    int64_t half = normal - normal / 2;
    *n_test = 0;
    for (int64_t i = half; i < normal; i++)
        test[(*n_test)++] = train[i];
    for (int64_t i = 0; i < rows; i++)
        if (label[i] != 0)
            test[(*n_test)++] = i;
    *n_train = half;
    return CLG_STATUS_OK;
}

/* ---- the synthetic generator ---- */

/* Per component, the standard deviation of the normal transactions (the
 * public file's PCA components shrink from about 1.9 for V1 to 0.3 for V28)
 * and the mean shift of the frauds in units of it (the public file's frauds
 * sit far out on V1-V18, most of all V3, V10, V12, V14 and V17; the later
 * components barely move). Values chosen to resemble those figures, not
 * copied from the data. */
static const float normal_std[28] = {1.9f, 1.6f,  1.5f,  1.4f, 1.3f, 1.3f,  1.2f, 1.1f, 1.1f, 1.0f,
                                     1.0f, 0.95f, 0.95f, 0.9f, 0.9f, 0.85f, 0.8f, 0.8f, 0.8f, 0.75f,
                                     0.7f, 0.7f,  0.6f,  0.6f, 0.5f, 0.5f,  0.4f, 0.3f};
static const float fraud_shift[28] = {
    -2.4f, 2.2f,  -4.4f, 3.2f,  -1.6f, -0.9f, -3.5f, 0.4f, -2.0f, -4.6f, 3.6f, -5.2f, 0.0f, -6.4f,
    0.0f,  -3.6f, -5.8f, -2.2f, 0.6f,  0.4f,  0.5f,  0.0f, 0.0f,  -0.2f, 0.1f, 0.1f,  0.2f, 0.3f};

/* Standard normal by Box-Muller from the splitmix64 stream. */
static double normal_draw(uint64_t *state)
{
    double u1 = ((double)(eng_splitmix64(state) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(eng_splitmix64(state) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double uniform_draw(uint64_t *state)
{
    return (double)(eng_splitmix64(state) >> 11) * 0x1.0p-53;
}

CLG_API clg_status clg_fraud_write_synthetic(clg_context *ctx, const char *path, int64_t rows,
                                             uint64_t seed, int64_t *frauds_written)
{
    static const char fn[] = "clg_fraud_write_synthetic";
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (rows < 4)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: %" PRId64 " rows; at least 4 are needed (two frauds and two "
                        "normal transactions)",
                        fn, rows);
    /* The public file's imbalance, 492 frauds in 284,807, and at least two
     * so that both test and scoring have positives. */
    int64_t frauds = (rows * 492 + 284807 / 2) / 284807;
    frauds = frauds < 2 ? 2 : frauds;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return eng_fail(ctx, CLG_STATUS_IO, "%s: %s: path too long", fn, path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return eng_fail(ctx, CLG_STATUS_IO, "%s: %s: %s", fn, path, strerror(errno));
    fputs("Time", f);
    for (int j = 1; j <= 28; j++)
        fprintf(f, ",V%d", j);
    fputs(",Amount,Class\n", f);

    /* Which rows are frauds: `frauds` distinct rows drawn by selection
     * sampling (Knuth's algorithm S), so they spread over the two days. */
    uint64_t pick = seed ^ 0x5851f42d4c957f2dULL, state = seed;
    int64_t left = frauds;
    for (int64_t r = 0; r < rows; r++) {
        bool fraud = uniform_draw(&pick) * (double)(rows - r) < (double)left;
        left -= fraud;
        /* One uniform time in each of `rows` equal slices of two days (the
         * public file's span): increasing, whole seconds as there. */
        fprintf(f, "%.1f", floor(172792.0 * ((double)r + uniform_draw(&state)) / (double)rows));
        /* Normal rows come from one of three clusters (kinds of purchase)
         * of slightly different means, so the data has structure the
         * autoencoder can learn; one row in fifty is spread twice as wide
         * (the public file's heavy tails). */
        int cluster = (int)(uniform_draw(&state) * 3.0);
        double wide = uniform_draw(&state) < 0.02 ? 2.0 : 1.0;
        /* How far a fraud strays: uniform, so some are blatant and some
         * hide among the normal rows, as in the public file, where no
         * detector finds every fraud. */
        double stray = uniform_draw(&state);
        for (int j = 0; j < 28; j++) {
            double z = normal_draw(&state);
            double v = fraud
                           ? normal_std[j] * (stray * fraud_shift[j] + (0.8 + stray) * z)
                           : normal_std[j] * (0.4 * (cluster - 1) * ((j % 3) - 1) + 0.8 * wide * z);
            fprintf(f, ",%.6f", v);
        }
        /* Amounts: log-normal around 22 euros for normal rows; frauds are
         * mostly tiny test charges or a few hundred euros. */
        double amount =
            fraud ? (uniform_draw(&state) < 0.5 ? 1.0 + 0.1 * floor(10.0 * uniform_draw(&state))
                                                : exp(5.0 + 0.8 * normal_draw(&state)))
                  : exp(3.1 + 1.3 * normal_draw(&state));
        fprintf(f, ",%.2f,%d\n", amount, fraud ? 1 : 0);
    }
    bool ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        remove(tmp);
        return eng_fail(ctx, CLG_STATUS_IO, "%s: %s: %s", fn, path, strerror(err));
    }
    if (frauds_written)
        *frauds_written = frauds;
    return CLG_STATUS_OK;
}
