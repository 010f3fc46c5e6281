/* fuzz/fuzz_checkpoint.c: checkpoint-to-model loading without a device: the
 * file is read (clg_safetensors_read), then zoo_checkpoint_check decides
 * whether clg_model_from_checkpoint would build a model from its metadata,
 * which is where sizes from the metadata meet the file. A checkpoint it
 * accepts must hold every tensor its "arch" implies, so building the model
 * can allocate nothing the file does not back. */
#include "clgrad/data.h"
#include "fuzz_input.h"
#include "zoo/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clg_context *ctx = fuzz_context();
    const char *path = fuzz_file(data, size);
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st)
        return 0;
    if (!zoo_checkpoint_check(ctx, path, st) && clg_context_status(ctx) == CLG_STATUS_OK)
        abort();
    clg_safetensors_destroy(st);
    return 0;
}
