/* clgrad/data.h: files and datasets on the host side: IDX (MNIST,
 * Fashion-MNIST), seeded shuffling and batching, safetensors checkpoints and
 * classification metrics. Failures are reported through the context like
 * every other error, naming the file and what was wrong with it. */
#ifndef CLGRAD_DATA_H
#define CLGRAD_DATA_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files (gzipped or plain, detected by content) ---- */

typedef struct clg_idx clg_idx;

/* Reads a whole IDX file of unsigned bytes (type 0x08), rank 1 to 4. */
CLG_API clg_idx *clg_idx_read(clg_context *ctx, const char *path);
CLG_API void clg_idx_destroy(clg_idx *idx);
CLG_API int clg_idx_rank(const clg_idx *idx);
CLG_API int64_t clg_idx_dim(const clg_idx *idx, int axis);
/* Borrowed for the object's lifetime; product of the dims bytes. */
CLG_API const uint8_t *clg_idx_data(const clg_idx *idx);

/* ---- Image classification datasets in the MNIST layout ---- */

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define CLG_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct clg_dataset clg_dataset;

/* Loads {train,t10k}-images-idx3-ubyte[.gz] and the matching labels from
 * `dir`. Pixels become floats in [0, 1]. A missing folder is
 * CLG_STATUS_IO with a message naming the Debian package. */
CLG_API clg_dataset *clg_dataset_load_mnist(clg_context *ctx, const char *dir, bool train);
CLG_API void clg_dataset_destroy(clg_dataset *ds);
CLG_API int64_t clg_dataset_size(const clg_dataset *ds);
CLG_API int64_t clg_dataset_features(const clg_dataset *ds); /* 784 for 28x28 */
CLG_API int clg_dataset_classes(const clg_dataset *ds);
/* Borrowed: (size, features) floats and (size) labels. */
CLG_API const float *clg_dataset_images(const clg_dataset *ds);
CLG_API const int32_t *clg_dataset_labels(const clg_dataset *ds);
/* Copies the rows named by `indices` into x (count * features) and y (count). */
CLG_API void clg_dataset_gather(const clg_dataset *ds, const int64_t *indices, int64_t count,
                                float *x, int32_t *y);

/* ---- Seeded shuffling and batching ---- */

/* Visits 0..size-1 in batches; with shuffle, each epoch is a fresh
 * permutation determined by (seed, epoch). The last short batch is kept unless
 * drop_last. */
typedef struct clg_batcher clg_batcher;

CLG_API clg_batcher *clg_batcher_create(clg_context *ctx, int64_t size, int64_t batch,
                                        bool shuffle, bool drop_last, uint64_t seed);
CLG_API void clg_batcher_destroy(clg_batcher *b);
/* Starts the next epoch (the first call starts epoch 0). */
CLG_API void clg_batcher_begin_epoch(clg_batcher *b);
/* The next batch's indices (borrowed until the next call); false at the end
 * of the epoch. */
CLG_API bool clg_batcher_next(clg_batcher *b, const int64_t **indices, int64_t *count);
CLG_API int64_t clg_batcher_batches_per_epoch(const clg_batcher *b);

/* ---- safetensors files: checkpoints and fixtures ---- */

/* Writes every parameter (float32, little endian) and the optional string
 * metadata (`keys[i]` = `values[i]`, in __metadata__) to `path`, through a
 * temporary file in the same folder renamed into place, so a crash never
 * leaves a half-written file. Blocks to read the parameters. */
CLG_API clg_status clg_checkpoint_save(clg_context *ctx, const clg_params *params,
                                       const char *path, const char *const *keys,
                                       const char *const *values, size_t n_meta);
/* Loads every parameter from `path`. Each name must be present with the same
 * shape, else CLG_STATUS_MISMATCH naming the tensor and both shapes. */
CLG_API clg_status clg_checkpoint_load(clg_context *ctx, const clg_params *params,
                                       const char *path);

typedef struct clg_safetensors clg_safetensors;

/* Reads a safetensors file whole (F32 and I32 entries; others are an error). */
CLG_API clg_safetensors *clg_safetensors_read(clg_context *ctx, const char *path);
CLG_API void clg_safetensors_destroy(clg_safetensors *st);
CLG_API size_t clg_safetensors_count(const clg_safetensors *st);
CLG_API const char *clg_safetensors_name(const clg_safetensors *st, size_t index);
/* Looks up an entry; false when absent. Pointers are borrowed for the
 * object's lifetime; shape has `*rank` valid entries. */
CLG_API bool clg_safetensors_get(const clg_safetensors *st, const char *name, clg_dtype *dtype,
                                 int *rank, const int64_t **shape, const void **data);
/* A __metadata__ value, or NULL. Borrowed. */
CLG_API const char *clg_safetensors_metadata(const clg_safetensors *st, const char *key);
/* A persistent tensor holding the entry; NULL (and CLG_STATUS_MISMATCH) when
 * absent. */
CLG_API clg_tensor *clg_safetensors_tensor(const clg_safetensors *st, clg_context *ctx,
                                           const char *name);

/* ---- Metrics ---- */

/* matrix[truth * classes + predicted] counts; returns the accuracy in [0, 1]
 * (0 when n is 0). Labels outside [0, classes) are not counted. */
CLG_API double clg_confusion_matrix(const int32_t *predicted, const int32_t *truth, int64_t n,
                                    int classes, int64_t *matrix);

#ifdef __cplusplus
}
#endif
#endif
