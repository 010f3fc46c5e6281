/* fuzz/fuzz_npz.c: clg_dataset_load_npz (data/npz.c) on arbitrary bytes:
 * the zip directory, zip64 fields, stored and deflated entries, the .npy
 * headers. A file it accepts must hold the rows and labels it reports. */
#include "clgrad/data.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clg_context *ctx = fuzz_context();
    clg_dataset *ds = clg_dataset_load_npz(ctx, fuzz_file(data, size));
    if (ds) {
        int64_t n = clg_dataset_size(ds), features = clg_dataset_features(ds);
        if (n < 1 || features < 1)
            abort(); /* data_dataset_take refuses empty sets */
        /* every value promised is readable (ASan checks), every label a
         * class index */
        volatile float sum = 0.0f;
        for (int64_t i = 0; i < n * features; i++)
            sum += clg_dataset_images(ds)[i];
        for (int64_t i = 0; i < n; i++)
            if (clg_dataset_labels(ds)[i] < 0 ||
                clg_dataset_labels(ds)[i] >= clg_dataset_classes(ds))
                abort();
        clg_dataset_destroy(ds);
    } else if (clg_context_status(ctx) == CLG_STATUS_OK) {
        abort(); /* a refusal must say why */
    }
    return 0;
}
