/* data/batcher.c: seeded shuffling and batching of 0..size-1 on the host.
 * Each epoch's order is a Fisher-Yates shuffle driven by splitmix64 seeded
 * from (seed, epoch) alone, so an epoch can be replayed without replaying the
 * ones before it, and a run is reproducible from its seed. */
#include <stdlib.h>

#include "clgrad/data.h"
#include "engine/engine.h"
#include "engine/random.h"

struct clg_batcher {
    clg_context *ctx;
    int64_t size;
    int64_t batch;
    bool shuffle;
    bool drop_last;
    uint64_t seed;
    int64_t epoch; /* -1 before the first clg_batcher_begin_epoch */
    int64_t position;
    int64_t *order; /* (size) */
};

/* Uniform in [0, bound) without modulo bias: draws in the top partial range
 * of 2^64 are rejected. */
static uint64_t uniform_below(uint64_t *state, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = eng_splitmix64(state);
    while (r >= limit);
    return r % bound;
}

CLG_API clg_batcher *clg_batcher_create(clg_context *ctx, int64_t size, int64_t batch, bool shuffle,
                                        bool drop_last, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (size < 0 || batch < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_batcher_create: size %lld and batch %lld (need size >= 0, batch >= 1)",
                 (long long)size, (long long)batch);
        return NULL;
    }
    clg_batcher *b = calloc(1, sizeof *b);
    if (b)
        b->order = malloc((size ? (size_t)size : 1) * sizeof *b->order);
    if (!b || !b->order) {
        clg_batcher_destroy(b);
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "clg_batcher_create: out of host memory");
        return NULL;
    }
    b->ctx = ctx;
    b->size = size;
    b->batch = batch;
    b->shuffle = shuffle;
    b->drop_last = drop_last;
    b->seed = seed;
    b->epoch = -1;
    return b;
}

CLG_API void clg_batcher_destroy(clg_batcher *b)
{
    if (!b)
        return;
    free(b->order);
    free(b);
}

/* The order of epoch b->epoch, from the start. */
static void build_order(clg_batcher *b)
{
    b->position = 0;
    for (int64_t i = 0; i < b->size; i++)
        b->order[i] = i;
    if (!b->shuffle)
        return;
    /* The epoch goes through one splitmix64 step of its own before meeting
     * the seed, so (seed, epoch) and (seed + 1, epoch - 1) do not collide. */
    uint64_t epoch_state = (uint64_t)b->epoch;
    uint64_t state = b->seed ^ eng_splitmix64(&epoch_state);
    for (int64_t i = b->size - 1; i > 0; i--) {
        int64_t j = (int64_t)uniform_below(&state, (uint64_t)i + 1);
        int64_t t = b->order[i];
        b->order[i] = b->order[j];
        b->order[j] = t;
    }
}

CLG_API void clg_batcher_begin_epoch(clg_batcher *b)
{
    b->epoch++;
    build_order(b);
}

/* A call before any clg_batcher_begin_epoch starts epoch 0, so a loop that
 * forgets it still sees the data rather than nothing. */
CLG_API bool clg_batcher_next(clg_batcher *b, const int64_t **indices, int64_t *count)
{
    if (b->epoch < 0)
        clg_batcher_begin_epoch(b);
    int64_t left = b->size - b->position;
    if (left == 0 || (b->drop_last && left < b->batch))
        return false;
    int64_t n = left < b->batch ? left : b->batch;
    *indices = b->order + b->position;
    *count = n;
    b->position += n;
    return true;
}

CLG_API int64_t clg_batcher_batches_per_epoch(const clg_batcher *b)
{
    return b->drop_last ? b->size / b->batch : (b->size + b->batch - 1) / b->batch;
}

CLG_API void clg_batcher_position(const clg_batcher *b, int64_t *epoch, int64_t *position)
{
    *epoch = b->epoch;
    *position = b->position;
}

CLG_API clg_status clg_batcher_seek(clg_batcher *b, int64_t epoch, int64_t position)
{
    if (eng_failed(b->ctx))
        return b->ctx->rt.error.status;
    /* Only where clg_batcher_position can stand: a batch boundary (the last
     * batch may be short), and nothing handed out before the first epoch. */
    bool at_boundary = position == b->size || position % b->batch == 0;
    if (epoch < -1 || epoch == INT64_MAX || position < 0 || position > b->size ||
        (epoch == -1 && position != 0) || !at_boundary)
        return eng_fail(b->ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_batcher_seek: epoch %lld, position %lld is not a place a batcher of "
                        "%lld samples in batches of %lld can stand",
                        (long long)epoch, (long long)position, (long long)b->size,
                        (long long)b->batch);
    b->epoch = epoch;
    if (epoch >= 0)
        build_order(b);
    b->position = position;
    return CLG_STATUS_OK;
}
