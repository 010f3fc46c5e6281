/* data/dataset.c: image classification datasets in the MNIST layout (an IDX
 * images file (N, H, W) and an IDX labels file (N) per split), held on the
 * host as float pixels in [0, 1] and int32 labels, and the row gather that
 * assembles a batch from a batcher's indices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgrad/data.h"
#include "engine/engine.h"

/* MNIST, Fashion-MNIST and KMNIST all have ten classes; a dataset in the same
 * layout with more (EMNIST) gets max label + 1. */
#define MIN_CLASSES 10

struct clg_dataset {
    int64_t size;
    int64_t features;
    int classes;
    float *images;   /* (size, features) */
    int32_t *labels; /* (size) */
    char *images_path, *labels_path; /* for messages */
};

CLG_API void clg_dataset_destroy(clg_dataset *ds)
{
    if (!ds)
        return;
    free(ds->images);
    free(ds->labels);
    free(ds->images_path);
    free(ds->labels_path);
    free(ds);
}

/* "<dir>/<name>" if it exists, else "<dir>/<name>.gz" if that does; false
 * (with the error recorded) when neither is there. */
static bool find_file(clg_context *ctx, const char *dir, const char *name, char *path,
                      size_t capacity)
{
    struct stat st;
    snprintf(path, capacity, "%s/%s", dir, name);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, capacity, "%s/%s.gz", dir, name);
    if (stat(path, &st) == 0)
        return true;
    eng_fail(ctx, CLG_STATUS_IO,
             "%s: has neither %s nor %s.gz (for Fashion-MNIST: apt-get install "
             "dataset-fashion-mnist, which puts the files in %s)",
             dir, name, name, CLG_FASHION_MNIST_DIR);
    return false;
}

CLG_API clg_dataset *clg_dataset_load_mnist(clg_context *ctx, const char *dir, bool train)
{
    if (eng_failed(ctx))
        return NULL;
    struct stat st;
    int found = stat(dir, &st);
    if (found != 0 || !S_ISDIR(st.st_mode)) {
        eng_fail(ctx, CLG_STATUS_IO,
                 "%s: no such folder (%s); for Fashion-MNIST run `apt-get install "
                 "dataset-fashion-mnist`, which puts the files in %s",
                 dir, found != 0 ? strerror(errno) : "not a directory", CLG_FASHION_MNIST_DIR);
        return NULL;
    }
    const char *split = train ? "train" : "t10k";
    char name[64], images_path[4096], labels_path[4096];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", split);
    if (!find_file(ctx, dir, name, images_path, sizeof images_path))
        return NULL;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", split);
    if (!find_file(ctx, dir, name, labels_path, sizeof labels_path))
        return NULL;

    clg_dataset *ds = NULL;
    clg_idx *images = clg_idx_read(ctx, images_path);
    clg_idx *labels = images ? clg_idx_read(ctx, labels_path) : NULL;
    if (!labels)
        goto done;
    if (clg_idx_rank(images) < 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: images file has rank %d (expected (N, H, W))",
                 images_path, clg_idx_rank(images));
        goto done;
    }
    if (clg_idx_rank(labels) != 1) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: labels file has rank %d (expected (N))", labels_path,
                 clg_idx_rank(labels));
        goto done;
    }
    int64_t n = clg_idx_dim(images, 0);
    if (n == 0) {
        /* nothing to train on or to test: say so here, not as a division by
         * zero or an allocation of nothing later */
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: no images (the %s split is empty)", images_path,
                 split);
        goto done;
    }
    if (clg_idx_dim(labels, 0) != n) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s has %lld images but %s has %lld labels", images_path,
                 (long long)n, labels_path, (long long)clg_idx_dim(labels, 0));
        goto done;
    }
    int64_t features = 1;
    for (int d = 1; d < clg_idx_rank(images); d++)
        features *= clg_idx_dim(images, d);

    ds = calloc(1, sizeof *ds);
    size_t count = (size_t)(n * features);
    if (ds) {
        ds->images = malloc((count ? count : 1) * sizeof *ds->images);
        ds->labels = malloc((n ? (size_t)n : 1) * sizeof *ds->labels);
        ds->images_path = strdup(images_path);
        ds->labels_path = strdup(labels_path);
    }
    if (!ds || !ds->images || !ds->labels || !ds->images_path || !ds->labels_path) {
        clg_dataset_destroy(ds);
        ds = NULL;
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for %lld images", dir,
                 (long long)n);
        goto done;
    }
    ds->size = n;
    ds->features = features;
    const uint8_t *pixels = clg_idx_data(images);
    for (size_t i = 0; i < count; i++)
        ds->images[i] = (float)pixels[i] / 255.0f;
    /* IDX labels are bytes, so every label is a valid class index once
     * classes covers the largest one. */
    const uint8_t *raw = clg_idx_data(labels);
    int classes = MIN_CLASSES;
    for (int64_t i = 0; i < n; i++) {
        ds->labels[i] = raw[i];
        if (raw[i] + 1 > classes)
            classes = raw[i] + 1;
    }
    ds->classes = classes;
done:
    clg_idx_destroy(images);
    clg_idx_destroy(labels);
    return ds;
}

CLG_API clg_status clg_dataset_check_labels(clg_context *ctx, const clg_dataset *ds, int classes)
{
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    for (int64_t i = 0; i < ds->size; i++)
        if (ds->labels[i] < 0 || ds->labels[i] >= classes)
            return eng_fail(ctx, CLG_STATUS_FORMAT,
                            "%s: label %d (of sample %lld) is outside the model's %d classes "
                            "(0 to %d)",
                            ds->labels_path, (int)ds->labels[i], (long long)i, classes,
                            classes - 1);
    return CLG_STATUS_OK;
}

CLG_API const char *clg_dataset_images_path(const clg_dataset *ds)
{
    return ds->images_path;
}

CLG_API const char *clg_dataset_labels_path(const clg_dataset *ds)
{
    return ds->labels_path;
}

CLG_API int64_t clg_dataset_size(const clg_dataset *ds)
{
    return ds->size;
}
CLG_API int64_t clg_dataset_features(const clg_dataset *ds)
{
    return ds->features;
}
CLG_API int clg_dataset_classes(const clg_dataset *ds)
{
    return ds->classes;
}
CLG_API const float *clg_dataset_images(const clg_dataset *ds)
{
    return ds->images;
}
CLG_API const int32_t *clg_dataset_labels(const clg_dataset *ds)
{
    return ds->labels;
}

/* There is no context to report a bad index to, so a row outside the dataset
 * becomes zeros with label -1: no out-of-bounds read, and a loss that checks
 * its labels rejects the batch. */
CLG_API void clg_dataset_gather(const clg_dataset *ds, const int64_t *indices, int64_t count,
                                float *x, int32_t *y)
{
    size_t row = (size_t)ds->features;
    for (int64_t i = 0; i < count; i++) {
        int64_t r = indices[i];
        bool inside = r >= 0 && r < ds->size;
        if (x) {
            if (inside)
                memcpy(x + (size_t)i * row, ds->images + (size_t)r * row, row * sizeof *x);
            else
                memset(x + (size_t)i * row, 0, row * sizeof *x);
        }
        if (y)
            y[i] = inside ? ds->labels[r] : -1;
    }
}
