/* tests/data/test_batcher.c: seeded shuffling and batching (data/batcher.c):
 * every index once per epoch, orders fixed by (seed, epoch), uniform
 * permutations, the batch counts with and without drop_last, and seeking
 * to a stored position (what resuming a run needs). */
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* One epoch's indices in visiting order into out (size entries); returns the
 * number of batches and asserts every batch but the last is full. */
static int64_t run_epoch(clg_batcher *b, int64_t size, int64_t batch, int64_t *out,
                         int64_t *last_count)
{
    clg_batcher_begin_epoch(b);
    const int64_t *indices;
    int64_t count, seen = 0, batches = 0;
    *last_count = 0;
    while (clg_batcher_next(b, &indices, &count)) {
        ck_assert_int_gt(count, 0);
        ck_assert_int_le(count, batch);
        ck_assert_msg(*last_count == 0 || *last_count == batch,
                      "a short batch came before the last");
        ck_assert_int_le(seen + count, size);
        memcpy(out + seen, indices, (size_t)count * sizeof *out);
        seen += count;
        batches++;
        *last_count = count;
    }
    /* The end of an epoch stays the end. */
    ck_assert(!clg_batcher_next(b, &indices, &count));
    return batches;
}

/* `count` distinct indices in [0, size); with count == size, a permutation. */
static void assert_distinct(const int64_t *order, int64_t count, int64_t size)
{
    char *seen = calloc((size_t)size + 1, 1);
    for (int64_t i = 0; i < count; i++) {
        ck_assert_msg(order[i] >= 0 && order[i] < size, "index %lld out of range",
                      (long long)order[i]);
        ck_assert_msg(!seen[order[i]], "index %lld visited twice", (long long)order[i]);
        seen[order[i]] = 1;
    }
    free(seen);
}

START_TEST(test_batcher_every_index_once)
{
    clg_context *ctx = test_context();
    const int64_t size = 1000, batch = 64;
    clg_batcher *b = clg_batcher_create(ctx, size, batch, true, false, 42);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(clg_batcher_batches_per_epoch(b), 16);
    int64_t order[1000], previous[1000], last;
    for (int epoch = 0; epoch < 5; epoch++) {
        ck_assert_int_eq(run_epoch(b, size, batch, order, &last), 16);
        ck_assert_int_eq(last, 1000 - 15 * 64);
        assert_distinct(order, size, size);
        /* Shuffled: a random permutation has one fixed point on average. */
        int fixed = 0;
        for (int64_t i = 0; i < size; i++)
            fixed += order[i] == i;
        ck_assert_int_lt(fixed, 20);
        if (epoch > 0)
            ck_assert_msg(memcmp(order, previous, sizeof order) != 0,
                          "epochs %d and %d have the same order", epoch - 1, epoch);
        memcpy(previous, order, sizeof order);
    }
    clg_batcher_destroy(b);
    clg_batcher_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

/* Same seed, same orders, epoch by epoch; another seed, other orders; and a
 * next() before any begin_epoch starts epoch 0. */
START_TEST(test_batcher_seeded)
{
    clg_context *ctx = test_context();
    const int64_t size = 257, batch = 32;
    clg_batcher *a = clg_batcher_create(ctx, size, batch, true, false, 7);
    clg_batcher *b = clg_batcher_create(ctx, size, batch, true, false, 7);
    clg_batcher *c = clg_batcher_create(ctx, size, batch, true, false, 8);
    int64_t oa[257], ob[257], oc[257], last;
    for (int epoch = 0; epoch < 3; epoch++) {
        run_epoch(a, size, batch, oa, &last);
        run_epoch(b, size, batch, ob, &last);
        run_epoch(c, size, batch, oc, &last);
        ck_assert_mem_eq(oa, ob, sizeof oa);
        ck_assert_msg(memcmp(oa, oc, sizeof oa) != 0, "seeds 7 and 8 agree in epoch %d", epoch);
    }

    clg_batcher *fresh = clg_batcher_create(ctx, size, batch, true, false, 7);
    clg_batcher *implicit = clg_batcher_create(ctx, size, batch, true, false, 7);
    int64_t first[257];
    run_epoch(fresh, size, batch, first, &last);
    const int64_t *indices;
    int64_t count, seen = 0;
    while (clg_batcher_next(implicit, &indices, &count)) {
        ck_assert_mem_eq(indices, first + seen, (size_t)count * sizeof *indices);
        seen += count;
    }
    ck_assert_int_eq(seen, size);

    clg_batcher_destroy(a);
    clg_batcher_destroy(b);
    clg_batcher_destroy(c);
    clg_batcher_destroy(fresh);
    clg_batcher_destroy(implicit);
    clg_context_destroy(ctx);
}
END_TEST

/* All 24 orders of 4 items over 24000 epochs: each should come about 1000
 * times (binomial, sd 31); 150 is about five sd. A Fisher-Yates off by one
 * (Sattolo's cycles, or a draw from [0, n) at every step) misses some orders
 * entirely or doubles others. */
START_TEST(test_batcher_uniform_permutations)
{
    clg_context *ctx = test_context();
    clg_batcher *b = clg_batcher_create(ctx, 4, 4, true, false, 2024);
    int counts[256] = {0};
    for (int epoch = 0; epoch < 24000; epoch++) {
        clg_batcher_begin_epoch(b);
        const int64_t *idx;
        int64_t count;
        ck_assert(clg_batcher_next(b, &idx, &count));
        ck_assert_int_eq(count, 4);
        counts[idx[0] << 6 | idx[1] << 4 | idx[2] << 2 | idx[3]]++;
    }
    int distinct = 0;
    for (int code = 0; code < 256; code++) {
        if (!counts[code])
            continue;
        distinct++;
        ck_assert_msg(abs(counts[code] - 1000) < 150, "order %02x came %d times of 24000", code,
                      counts[code]);
    }
    ck_assert_int_eq(distinct, 24);
    clg_batcher_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

/* Without shuffle: 0..size-1 in order, every epoch. */
START_TEST(test_batcher_sequential)
{
    clg_context *ctx = test_context();
    clg_batcher *b = clg_batcher_create(ctx, 10, 4, false, false, 1);
    int64_t order[10], last;
    for (int epoch = 0; epoch < 2; epoch++) {
        ck_assert_int_eq(run_epoch(b, 10, 4, order, &last), 3);
        ck_assert_int_eq(last, 2);
        for (int64_t i = 0; i < 10; i++)
            ck_assert_int_eq(order[i], i);
    }
    clg_batcher_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

/* Batch counts, short last batches and drop_last, against
 * ceil(size / batch) and floor(size / batch). */
START_TEST(test_batcher_counts)
{
    clg_context *ctx = test_context();
    const struct {
        int64_t size, batch;
        bool drop_last;
        int64_t batches, last;
    } cases[] = {
        {10, 3, false, 4, 1}, {10, 3, true, 3, 3}, {9, 3, false, 3, 3}, {9, 3, true, 3, 3},
        {2, 5, false, 1, 2},  {2, 5, true, 0, 0},  {0, 4, false, 0, 0}, {0, 4, true, 0, 0},
        {7, 1, true, 7, 1},   {5, 5, true, 1, 5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int shuffle = 0; shuffle < 2; shuffle++) {
            clg_batcher *b = clg_batcher_create(ctx, cases[c].size, cases[c].batch, shuffle,
                                                cases[c].drop_last, 3);
            ck_assert_msg(b != NULL, "%s", clg_context_error(ctx));
            ck_assert_int_eq(clg_batcher_batches_per_epoch(b), cases[c].batches);
            int64_t order[16], last;
            int64_t batches = run_epoch(b, cases[c].size, cases[c].batch, order, &last);
            ck_assert_msg(batches == cases[c].batches && last == cases[c].last,
                          "size %lld batch %lld drop_last %d: %lld batches, last %lld",
                          (long long)cases[c].size, (long long)cases[c].batch, cases[c].drop_last,
                          (long long)batches, (long long)last);
            int64_t visited = cases[c].drop_last ? batches * cases[c].batch : cases[c].size;
            assert_distinct(order, visited, cases[c].size);
            clg_batcher_destroy(b);
        }
    clg_context_destroy(ctx);
}
END_TEST

/* A batcher put where another stood (mid-epoch, at an epoch's end, before
 * the first) hands out the same indices from there on, over epochs. */
START_TEST(test_batcher_seek_continues)
{
    clg_context *ctx = test_context();
    const int64_t size = 103, batch = 10;
    for (int drop_last = 0; drop_last < 2; drop_last++)
        for (int stop = 0; stop < 40; stop += 3) { /* batches handed out before the copy */
            clg_batcher *a = clg_batcher_create(ctx, size, batch, true, drop_last, 7);
            const int64_t *ia, *ib;
            int64_t na, nb, epoch, position;
            clg_batcher_position(a, &epoch, &position);
            ck_assert(epoch == -1 && position == 0);
            for (int k = 0; k < stop; k++)
                if (!clg_batcher_next(a, &ia, &na))
                    clg_batcher_begin_epoch(a);
            clg_batcher_position(a, &epoch, &position);
            clg_batcher *b = clg_batcher_create(ctx, size, batch, true, drop_last, 7);
            ck_assert_msg(clg_batcher_seek(b, epoch, position) == CLG_STATUS_OK, "%s",
                          clg_context_error(ctx));
            for (int k = 0; k < 40; k++) {
                bool more_a = clg_batcher_next(a, &ia, &na);
                bool more_b = clg_batcher_next(b, &ib, &nb);
                ck_assert_int_eq(more_a, more_b);
                if (!more_a) {
                    clg_batcher_begin_epoch(a);
                    clg_batcher_begin_epoch(b);
                    continue;
                }
                ck_assert_int_eq(na, nb);
                ck_assert_msg(memcmp(ia, ib, (size_t)na * sizeof *ia) == 0,
                              "seek to epoch %lld position %lld: batch %d differs",
                              (long long)epoch, (long long)position, k);
            }
            clg_batcher_destroy(a);
            clg_batcher_destroy(b);
        }
    /* Only where a batcher can stand. */
    clg_batcher *b = clg_batcher_create(ctx, size, batch, true, false, 7);
    const int64_t bad[][2] = {{-2, 0}, {-1, 10}, {0, 5}, {0, 104}, {0, -10}, {INT64_MAX, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(clg_batcher_seek(b, bad[i][0], bad[i][1]), CLG_STATUS_INVALID_ARGUMENT);
        ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_batcher_seek"));
        clg_context_clear_error(ctx);
    }
    ck_assert_int_eq(clg_batcher_seek(b, 3, 103), CLG_STATUS_OK); /* an epoch's end */
    clg_batcher_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_batcher_bad_arguments)
{
    clg_context *ctx = test_context();
    ck_assert_ptr_null(clg_batcher_create(ctx, 10, 0, true, false, 1));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_batcher_create"));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "batch 0"));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_batcher_create(ctx, -1, 4, true, false, 1));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "size -1"));
    clg_context_clear_error(ctx);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_batcher_every_index_once,
                            test_batcher_seeded,
                            test_batcher_uniform_permutations,
                            test_batcher_sequential,
                            test_batcher_counts,
                            test_batcher_seek_continues,
                            test_batcher_bad_arguments,
                            NULL};
    return test_main("data/batcher", "batcher", 0, tests);
}
