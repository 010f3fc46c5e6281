/* data/safetensors.h: what zoo/ needs of data/safetensors.c beyond the
 * public API: loading parameters from a file already read (and checked), so
 * a model built from a checkpoint's metadata reads the file once. Internal
 * prefix: data_. */
#ifndef CLGRAD_DATA_SAFETENSORS_H
#define CLGRAD_DATA_SAFETENSORS_H

#include "clgrad/data.h"

/* clg_checkpoint_load from `st`, the contents of `path` (named in errors). */
clg_status data_checkpoint_load_from(clg_context *ctx, const clg_params *params, const char *path,
                                     const clg_safetensors *st);

/* For a message about a tensor the file lacks: "it holds \"a\", \"b\" and
 * 3 more" (the first names that fit in `capacity`, at most 8), or "it holds
 * no tensors". */
void data_safetensors_names(const clg_safetensors *st, char *buffer, size_t capacity);

#endif
