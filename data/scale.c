/* data/scale.c: MinMax scaling, fitted on some rows of a table (one split)
 * and applied to any rows, as sklearn.preprocessing.MinMaxScaler does. */
#include <inttypes.h>
#include <math.h>

#include "clgrad/data.h"
#include "engine/engine.h"

CLG_API clg_status clg_minmax_fit(clg_context *ctx, const float *x, int64_t cols,
                                  const int64_t *rows, int64_t count, float *lo, float *hi)
{
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (!x || !rows || !lo || !hi || cols < 1 || count < 1)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_minmax_fit: %" PRId64 " rows of %" PRId64
                        " columns; expected at least one of each and no NULL pointer",
                        count, cols);
    for (int64_t c = 0; c < cols; c++) {
        lo[c] = INFINITY;
        hi[c] = -INFINITY;
    }
    for (int64_t r = 0; r < count; r++) {
        const float *row = x + rows[r] * cols;
        for (int64_t c = 0; c < cols; c++) {
            lo[c] = row[c] < lo[c] ? row[c] : lo[c];
            hi[c] = row[c] > hi[c] ? row[c] : hi[c];
        }
    }
    return CLG_STATUS_OK;
}

CLG_API void clg_minmax_transform(const float *lo, const float *hi, int64_t cols, const float *x,
                                  int64_t rows, float *out)
{
    for (int64_t c = 0; c < cols; c++) {
        /* A constant column maps to 0, as sklearn's scale of 1 for a zero
         * range does. Values outside the fitted range are not clipped. */
        float range = hi[c] - lo[c];
        float scale = range > 0.0f ? 1.0f / range : 1.0f;
        for (int64_t r = 0; r < rows; r++)
            out[r * cols + c] = (x[r * cols + c] - lo[c]) * scale;
    }
}
