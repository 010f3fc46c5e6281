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

#endif
