/* fuzz/fuzz_idx.c: clg_idx_read (data/idx.c) on arbitrary bytes, plain and
 * gzipped (the reader tells them apart by content). A file it accepts must
 * hold exactly the data its dims say. */
#include "clgrad/data.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clg_context *ctx = fuzz_context();
    clg_idx *idx = clg_idx_read(ctx, fuzz_file(data, size));
    if (idx) {
        size_t total = 1;
        for (int d = 0; d < clg_idx_rank(idx); d++)
            total *= (size_t)clg_idx_dim(idx, d);
        /* every byte the dims promise is readable (ASan checks) */
        volatile unsigned sum = 0;
        for (size_t i = 0; i < total; i++)
            sum += clg_idx_data(idx)[i];
        clg_idx_destroy(idx);
    } else if (clg_context_status(ctx) == CLG_STATUS_OK) {
        abort(); /* a refusal must say why */
    }
    return 0;
}
