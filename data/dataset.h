/* data/dataset.h: the one way data/ builds a clg_dataset from host arrays it
 * has read (npz.c, csv.c) or been given (clg_dataset_from_arrays), so every
 * source is checked alike. Internal prefix: data_. */
#ifndef CLGRAD_DATA_DATASET_H
#define CLGRAD_DATA_DATASET_H

#include "clgrad/data.h"

/* The most classes a dataset may have: labels are class indices, and a
 * model gets one output per class, so a stray huge label (an id, a year)
 * would otherwise build a model of millions of outputs. */
#define DATA_MAX_CLASSES 65536

/* Takes ownership of x (n, features) and labels (n), both malloc'ed (freed
 * here on failure too), and of nothing else: the two names are copied.
 * Checks what training needs (n and features at least 1, every value of x
 * finite, every label in [0, DATA_MAX_CLASSES)); classes = 1 + the largest
 * label. x_name and labels_name go in messages ("my.npz: array 'x'").
 * NULL with CLG_STATUS_FORMAT naming the array, the row and the value. */
clg_dataset *data_dataset_take(clg_context *ctx, float *x, int32_t *labels, int64_t n,
                               int64_t features, const char *x_name, const char *labels_name);

#endif
