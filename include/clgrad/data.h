/* clgrad/data.h: files and datasets on the host side: IDX (MNIST,
 * Fashion-MNIST), your own data (host arrays, NumPy .npz, CSV), seeded
 * shuffling and batching, safetensors checkpoints and
 * classification metrics. Failures are reported through the context like
 * every other error, naming the file and what was wrong with it. */
#ifndef CLGRAD_DATA_H
#define CLGRAD_DATA_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files (gzipped or plain, detected by content) ---- */

typedef struct clg_idx clg_idx;

/* Reads a whole IDX file of unsigned bytes (type 0x08), rank 1 to 4. Free
 * it with clg_idx_destroy. */
CLG_API clg_idx *clg_idx_read(clg_context *ctx, const char *path);
CLG_API void clg_idx_destroy(clg_idx *idx);
CLG_API int clg_idx_rank(const clg_idx *idx);
CLG_API int64_t clg_idx_dim(const clg_idx *idx, int axis);
/* Borrowed for the object's lifetime; product of the dims bytes. */
CLG_API const uint8_t *clg_idx_data(const clg_idx *idx);

/* ---- Image classification datasets in the MNIST layout ---- */

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define CLG_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Every dataset (clg_dataset_load_mnist, _load_npz, _load_csv, _from_arrays,
 * _split) is freed with clg_dataset_destroy. */
typedef struct clg_dataset clg_dataset;

/* Loads {train,t10k}-images-idx3-ubyte[.gz] and the matching labels from
 * `dir`. Pixels become floats in [0, 1]. A missing folder is
 * CLG_STATUS_IO with a message naming the Debian package; a split without
 * images is CLG_STATUS_FORMAT naming the file. */
CLG_API clg_dataset *clg_dataset_load_mnist(clg_context *ctx, const char *dir, bool train);
CLG_API void clg_dataset_destroy(clg_dataset *ds);
CLG_API int64_t clg_dataset_size(const clg_dataset *ds);
CLG_API int64_t clg_dataset_features(const clg_dataset *ds); /* 784 for 28x28 */
/* 1 + the largest label; at least 10 for clg_dataset_load_mnist. */
CLG_API int clg_dataset_classes(const clg_dataset *ds);
/* CLG_STATUS_FORMAT, naming the labels file, the sample and the label, unless
 * every label is in [0, classes): a test split checked against the classes
 * of a model trained elsewhere. */
CLG_API clg_status clg_dataset_check_labels(clg_context *ctx, const clg_dataset *ds, int classes);
/* The files the dataset was read from (borrowed), for messages. */
CLG_API const char *clg_dataset_images_path(const clg_dataset *ds);
CLG_API const char *clg_dataset_labels_path(const clg_dataset *ds);
/* Borrowed: (size, features) floats and (size) labels. */
CLG_API const float *clg_dataset_images(const clg_dataset *ds);
CLG_API const int32_t *clg_dataset_labels(const clg_dataset *ds);
/* Copies the rows named by `indices` into x (count * features) and y (count). */
CLG_API void clg_dataset_gather(const clg_dataset *ds, const int64_t *indices, int64_t count,
                                float *x, int32_t *y);

/* ---- Your own data: datasets from host arrays, NumPy .npz and CSV files ----
 *
 * Each gives a dataset like the MNIST one above, with classes = 1 + the
 * largest label (no minimum of ten). Every source is checked alike: at
 * least one row and one feature, every input finite (a NaN is named by row
 * and column rather than left to turn every loss into NaN), every label a
 * class index in [0, 65536). Failures are CLG_STATUS_FORMAT naming the file
 * (or `name`), the array or column, and the row. */

/* A copy of x (n, features), row-major, and labels (n); `name` (may be
 * NULL) stands for the arrays in messages. Nothing is borrowed. */
CLG_API clg_dataset *clg_dataset_from_arrays(clg_context *ctx, const float *x, int64_t n,
                                             int64_t features, const int32_t *labels,
                                             const char *name);
/* A NumPy archive with arrays "x" and "y", as np.savez(path, x=x, y=y) and
 * np.savez_compressed write it (stored and deflated zip entries, zip64
 * included; each entry's CRC is checked). Other arrays are ignored.
 *   x: (N, features), or (N, C, H, W) or (N, H, W) flattened per sample, of
 *      float32, float64 (rounded to float32) or uint8 (divided by 255, as
 *      the MNIST pixels are, and torchvision's ToTensor does);
 *   y: (N) of any integer type up to 64 bits (int8 ... uint64).
 * Little endian, C order ('fortran_order': False) only: anything else
 * (float16, big endian, object arrays, which NumPy pickles) is refused with
 * the dtype and the conversion that fixes it. Sizes the archive or a .npy
 * header states are checked against the file before anything is allocated
 * for them. */
CLG_API clg_dataset *clg_dataset_load_npz(clg_context *ctx, const char *path);
/* A CSV file with a header row naming the columns; the column named
 * `label_column` holds the labels (whole numbers), every other column is a
 * feature (a number). Fields may be in double quotes; lines end in \n or
 * \r\n; blank lines are skipped. */
CLG_API clg_dataset *clg_dataset_load_csv(clg_context *ctx, const char *path,
                                          const char *label_column);
/* Splits `ds` in two by a permutation of its rows drawn from `seed`
 * (splitmix64, the same on every machine): *held_out receives
 * round(size * fraction) rows (at least one, and one left to train on),
 * *train the rest, each in the order of `ds`, both with the classes of
 * `ds`. fraction in (0, 1) and size >= 2, else CLG_STATUS_INVALID_ARGUMENT.
 * Both are new datasets (free each with clg_dataset_destroy); NULL on error. */
CLG_API clg_status clg_dataset_split(clg_context *ctx, const clg_dataset *ds, double fraction,
                                     uint64_t seed, clg_dataset **train,
                                     clg_dataset **held_out);

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
/* Where the batcher stands: the epoch begun last (-1 before the first) and
 * how many of its samples were handed out. With the seed, that is all of
 * its state: a training checkpoint stores these two numbers. */
CLG_API void clg_batcher_position(const clg_batcher *b, int64_t *epoch, int64_t *position);
/* Puts a batcher (made with the same size, batch and seed) where
 * clg_batcher_position said: that epoch's order rebuilt, `position` samples
 * of it handed out, so the next clg_batcher_next continues the order (and
 * at position == size, clg_batcher_begin_epoch starts epoch + 1). Errors
 * (CLG_STATUS_INVALID_ARGUMENT, nothing changed): epoch below -1 or
 * INT64_MAX (no epoch could follow), position outside [0, size], other
 * than 0 at epoch -1, or not at a batch boundary (a multiple of batch, or
 * size). */
CLG_API clg_status clg_batcher_seek(clg_batcher *b, int64_t epoch, int64_t position);

/* ---- safetensors files: checkpoints and fixtures ---- */

/* Writes every parameter (float32, little endian) and the optional string
 * metadata (`keys[i]` = `values[i]`, in __metadata__) to `path`, through a
 * temporary file in the same folder renamed into place, so a crash never
 * leaves a half-written file (on Linux an unnamed O_TMPFILE file, named only
 * once whole, so a kill while writing leaves no temporary either). Blocks
 * to read the parameters. */
CLG_API clg_status clg_checkpoint_save(clg_context *ctx, const clg_params *params,
                                       const char *path, const char *const *keys,
                                       const char *const *values, size_t n_meta);
/* Loads every parameter from `path`. Each name must be present with the same
 * shape, else CLG_STATUS_MISMATCH naming the tensor and both shapes. The
 * file's other tensors (a training checkpoint's optimizer state, a PyTorch
 * BatchNorm's num_batches_tracked) are left aside. */
CLG_API clg_status clg_checkpoint_load(clg_context *ctx, const clg_params *params,
                                       const char *path);

typedef struct clg_safetensors clg_safetensors;

/* Reads a safetensors file whole: F32 and I32 entries as stored; F64, F16
 * and BF16 entries (what PyTorch saves from a model.double() or half())
 * converted to F32, as which clg_safetensors_get then gives them (F64 beyond
 * the float range becomes an infinity); I64 entries (a state_dict's
 * integers, such as BatchNorm's num_batches_tracked) converted to I32, a
 * value outside int32's range being CLG_STATUS_FORMAT naming the tensor,
 * element and value; any other dtype is CLG_STATUS_FORMAT naming the tensor
 * and its dtype.
 * The header's sizes are checked against the file before anything is
 * allocated; the tensors must tile the data with no overlap, gap or byte
 * after the last (CLG_STATUS_FORMAT naming the file and the tensors). Free
 * it with clg_safetensors_destroy. */
CLG_API clg_safetensors *clg_safetensors_read(clg_context *ctx, const char *path);
CLG_API void clg_safetensors_destroy(clg_safetensors *st);
CLG_API size_t clg_safetensors_count(const clg_safetensors *st);
CLG_API const char *clg_safetensors_name(const clg_safetensors *st, size_t index);
/* Looks up an entry; false when absent. Pointers are borrowed for the
 * object's lifetime; shape has `*rank` valid entries. */
CLG_API bool clg_safetensors_get(const clg_safetensors *st, const char *name, clg_dtype *dtype,
                                 int *rank, const int64_t **shape, const void **data);
/* How many values of an F32 entry are NaN or infinite (0 for I32 entries and
 * absent names): a checkpoint saved from a diverged run loads fine, so a
 * caller that wants to warn asks here. */
CLG_API int64_t clg_safetensors_nonfinite(const clg_safetensors *st, const char *name);
/* A __metadata__ value, or NULL. Borrowed. */
CLG_API const char *clg_safetensors_metadata(const clg_safetensors *st, const char *key);
/* A persistent tensor holding the entry; NULL (and CLG_STATUS_MISMATCH) when
 * absent. */
CLG_API clg_tensor *clg_safetensors_tensor(const clg_safetensors *st, clg_context *ctx,
                                           const char *name);

/* ---- Metrics ---- */

/* matrix[truth * classes + predicted] counts (matrix may be NULL), and the
 * accuracy in [0, 1] (0 when n is 0) in *accuracy (may be NULL). A label
 * outside [0, classes), truth or predicted, is CLG_STATUS_INVALID_ARGUMENT
 * naming the sample, with the matrix untouched: a label the caller's matrix
 * has no row for is a bug or a bad file upstream, not a sample to skip. */
CLG_API clg_status clg_confusion_matrix(clg_context *ctx, const int32_t *predicted,
                                        const int32_t *truth, int64_t n, int classes,
                                        int64_t *matrix, double *accuracy);

/* ---- Credit-card fraud transactions (CSV) and binary-detection metrics ----
 *
 * The layout of the public credit-card fraud data set (284,807 card
 * transactions over two days of 2013, 492 frauds): the header
 *   Time,V1,V2,...,V28,Amount,Class
 * then one transaction per line: the seconds since the first transaction,
 * 28 PCA components, the amount, and Class 0 (normal) or 1 (fraud). Fields
 * may be in double quotes, as the public file writes them. The real file is
 * in no package; clg_fraud_write_synthetic writes a seeded synthetic one in
 * the same layout for tests and demonstrations. */

#define CLG_FRAUD_FEATURES 30 /* Time, V1..V28, Amount */

typedef struct clg_fraud_data clg_fraud_data;

/* Reads a whole file. CLG_STATUS_FORMAT, with a message naming the file, the
 * line and the column (1-based, the header is line 1), for: an empty file, a
 * header other than the layout's (a missing Class column included), a row
 * with fewer or more than 31 fields, a field that is not a number, a Class
 * other than 0 or 1, no rows, or rows of one class only. Free it with
 * clg_fraud_data_destroy. */
CLG_API clg_fraud_data *clg_fraud_read_csv(clg_context *ctx, const char *path);
CLG_API void clg_fraud_data_destroy(clg_fraud_data *data);
CLG_API int64_t clg_fraud_data_rows(const clg_fraud_data *data);
CLG_API int64_t clg_fraud_data_frauds(const clg_fraud_data *data);
/* Borrowed for the object's lifetime: (rows, CLG_FRAUD_FEATURES) raw
 * features and (rows) labels. */
CLG_API const float *clg_fraud_data_features(const clg_fraud_data *data);
CLG_API const int32_t *clg_fraud_data_labels(const clg_fraud_data *data);

/* The lecture's split: the normal rows shuffled by `seed` and halved; the
 * first half (the larger for an odd count) is the training set, normal rows
 * only; the other half and every fraud form the test set. train and test
 * must each hold clg_fraud_data_rows entries; they receive row indices. */
CLG_API clg_status clg_fraud_split(clg_context *ctx, const clg_fraud_data *data, uint64_t seed,
                                   int64_t *train, int64_t *n_train, int64_t *test,
                                   int64_t *n_test);

/* Writes `rows` synthetic transactions (at least 4) to `path` in the layout
 * above (through a temporary file renamed into place), with the public
 * file's imbalance: round(rows * 492 / 284807) frauds, at least 2, at rows
 * chosen by the seed; *frauds (may be NULL) receives their count. The
 * normal rows come from three Gaussian clusters, the frauds are shifted
 * along the components where the public file's frauds differ most. The same
 * (rows, seed) gives the same file on every machine that formats floats
 * alike. It is synthetic: no conclusion about real fraud follows from it. */
CLG_API clg_status clg_fraud_write_synthetic(clg_context *ctx, const char *path, int64_t rows,
                                             uint64_t seed, int64_t *frauds);

/* MinMax scaling, sklearn's MinMaxScaler: lo and hi (cols each) receive the
 * column minima and maxima over the rows of x (row-major, `cols` wide) named
 * by `rows` (count of them), the training split's; then
 * clg_minmax_transform writes (x - lo) / (hi - lo) for `n` rows (out may be
 * x); a constant column becomes 0 and values outside [lo, hi] are not
 * clipped, as in sklearn. */
CLG_API clg_status clg_minmax_fit(clg_context *ctx, const float *x, int64_t cols,
                                  const int64_t *rows, int64_t count, float *lo, float *hi);
CLG_API void clg_minmax_transform(const float *lo, const float *hi, int64_t cols, const float *x,
                                  int64_t n, float *out);

/* Binary detection from scores: truth 1 (positive, fraud) or 0 (negative),
 * a row predicted positive when its score is above the threshold (the
 * lecture's "distance > 0.20"). Every function below reports
 * CLG_STATUS_INVALID_ARGUMENT, naming itself, for n < 1, a NaN score, a
 * truth outside {0, 1}, or a truth of one class only (neither rate nor the
 * ROC curve is defined then). */

/* sklearn.metrics.roc_curve(truth, scores, drop_intermediate=False): one
 * point per distinct score, scanned from the highest, plus the origin with
 * threshold +infinity first (sklearn 1.2 writes max + 1 there, later
 * versions inf). Ties share one point, so a tie between a positive and a
 * negative is a diagonal step. fpr, tpr and thresholds (any may be NULL)
 * need room for n + 1 points; *points receives the count. */
CLG_API clg_status clg_roc_curve(clg_context *ctx, const float *scores, const int32_t *truth,
                                 int64_t n, double *fpr, double *tpr, float *thresholds,
                                 int64_t *points);
/* sklearn.metrics.roc_auc_score: the trapezoidal area under that curve,
 * which counts each positive-negative tie as half a correctly ranked pair. */
CLG_API clg_status clg_roc_auc(clg_context *ctx, const float *scores, const int32_t *truth,
                               int64_t n, double *auc);

/* The confusion matrix at one threshold, and its rates. */
typedef struct clg_binary_counts {
    int64_t tn, fp; /* negatives: below or at the threshold, above it */
    int64_t fn, tp; /* positives: likewise */
    double tpr;     /* tp / (tp + fn): frauds caught */
    double fpr;     /* fp / (fp + tn): normal transactions flagged */
} clg_binary_counts;

CLG_API clg_status clg_binary_counts_at(clg_context *ctx, const float *scores,
                                        const int32_t *truth, int64_t n, float threshold,
                                        clg_binary_counts *out);
/* The lowest threshold whose false-positive rate is at most target_fpr (in
 * [0, 1)): a negatives' score, so ties never push the rate above target. */
CLG_API clg_status clg_threshold_for_fpr(clg_context *ctx, const float *scores,
                                         const int32_t *truth, int64_t n, double target_fpr,
                                         float *threshold);

#ifdef __cplusplus
}
#endif
#endif
