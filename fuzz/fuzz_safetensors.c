/* fuzz/fuzz_safetensors.c: clg_safetensors_read (data/safetensors.c) on
 * arbitrary bytes. For an accepted file every entry's bytes are read
 * (ASan checks they lie inside the buffer), and its metadata looked up. */
#include <string.h>

#include "clgrad/data.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clg_context *ctx = fuzz_context();
    clg_safetensors *st = clg_safetensors_read(ctx, fuzz_file(data, size));
    if (!st) {
        if (clg_context_status(ctx) == CLG_STATUS_OK)
            abort();
        return 0;
    }
    volatile unsigned sum = 0;
    for (size_t i = 0; i < clg_safetensors_count(st); i++) {
        const char *name = clg_safetensors_name(st, i);
        clg_dtype dtype;
        int rank = 0;
        const int64_t *shape = NULL;
        const void *bytes = NULL;
        if (!clg_safetensors_get(st, name, &dtype, &rank, &shape, &bytes))
            abort();
        size_t n = 4;
        for (int d = 0; d < rank; d++)
            n *= (size_t)shape[d];
        for (size_t k = 0; k < n; k++)
            sum += ((const unsigned char *)bytes)[k];
        sum += (unsigned)clg_safetensors_nonfinite(st, name);
    }
    const char *v = clg_safetensors_metadata(st, "model");
    if (v)
        sum += (unsigned)strlen(v);
    clg_safetensors_destroy(st);
    return 0;
}
