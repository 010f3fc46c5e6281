/* fuzz/fuzz_csv.c: clg_fraud_read_csv (data/csv.c) on arbitrary bytes. An
 * accepted file has finite features and 0/1 classes of both kinds. */
#include <math.h>

#include "clgrad/data.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clg_context *ctx = fuzz_context();
    clg_fraud_data *d = clg_fraud_read_csv(ctx, fuzz_file(data, size));
    if (d) {
        int64_t rows = clg_fraud_data_rows(d), frauds = 0;
        const float *x = clg_fraud_data_features(d);
        const int32_t *y = clg_fraud_data_labels(d);
        for (int64_t i = 0; i < rows * CLG_FRAUD_FEATURES; i++)
            if (!isfinite(x[i]))
                abort();
        for (int64_t i = 0; i < rows; i++) {
            if (y[i] != 0 && y[i] != 1)
                abort();
            frauds += y[i];
        }
        if (frauds != clg_fraud_data_frauds(d) || frauds == 0 || frauds == rows)
            abort();
        clg_fraud_data_destroy(d);
    } else if (clg_context_status(ctx) == CLG_STATUS_OK) {
        abort();
    }
    return 0;
}
