/* dist/dist.c: data parallelism over MPI (include/clgrad/dist.h is the
 * manual): gradient buckets filled during the backward walk, pinned host
 * staging, MPI_Iallreduce per bucket, the parameter broadcast and the
 * cross-rank checks. Internal prefix: dist_. OpenCL is called here directly
 * (dist/ sits above cl/ in DESIGN.md's table) for the non-blocking reads and
 * writes with events, which cl/'s interface does not offer. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgrad/dist.h"
#include "engine/engine.h"

#define MIB ((size_t)1 << 20)

typedef struct dist_param {
    clg_tensor *tensor;
    const char *name;
    size_t offset;          /* floats into the staging buffer */
    size_t numel;
    int bucket;
    const eng_node *last;   /* the earliest recorded node using it: the walk's last */
    bool ready;             /* its gradient is complete for this round */
    bool had_grad;          /* it had a gradient when its bucket was read */
} dist_param;

typedef struct dist_bucket {
    int first, count;       /* params order[first .. first + count) */
    size_t offset;          /* floats: the gradients, then one flag per parameter */
    size_t floats;
    int ready;              /* parameters ready this round */
    cl_event event;         /* the end of its read into staging, until the allreduce starts */
    MPI_Request request;    /* its allreduce */
    bool overlapped;        /* its allreduce started before the last bucket's read ended */
} dist_bucket;

struct clg_dist {
    clg_context *ctx;
    const clg_params *params;
    MPI_Comm comm; /* our duplicate, errors returned */
    int rank, size;
    dist_param *p; /* trainable parameters, last created first */
    int n_params;
    int *order;    /* indices into p, in bucket order */
    int *ready_order; /* the order the walk completed them this round */
    int n_ready;
    size_t first_bucket_bytes, bucket_bytes;
    bool rebuilt;  /* buckets follow the first walk's order */
    dist_bucket *buckets;
    int n_buckets;
    cl_mem staging_mem; /* CL_MEM_ALLOC_HOST_PTR, mapped for the object's life */
    float *staging;
    size_t staging_floats;
    float scale;
    int check_every;
    bool in_round;   /* a backward (or a wait) has started this step's buckets */
    bool in_walk;    /* inside clg_backward's walk */
    bool walked;     /* this round had a walk */
    bool no_backward; /* the round began in clg_dist_wait: contribute zeros */
    int next_read, next_reduce;
    clg_dist_stats stats;
};

static clg_status mpi_fail(clg_context *ctx, const char *call, int code)
{
    char reason[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    MPI_Error_string(code, reason, &length);
    return eng_fail(ctx, CLG_STATUS_IO, "%s failed: %s", call, reason);
}

/* Every MPI call: on failure the context error names the call and MPI's
 * reason, and the function jumps to its cleanup label. */
#define DIST_MPI(ctx, name, call)                                               \
    do {                                                                        \
        int code_ = (call);                                                     \
        if (code_ != MPI_SUCCESS) {                                             \
            status = mpi_fail((ctx), (name), code_);                            \
            goto cleanup;                                                       \
        }                                                                       \
    } while (0)

/* FNV-1a, 64 bits: a fingerprint, not a defence against adversaries. */
static uint64_t hash_bytes(uint64_t h, const void *bytes, size_t count)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < count; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define HASH_START 0xcbf29ce484222325ull

CLG_API clg_dist_options clg_dist_options_default(void)
{
    return (clg_dist_options){.first_bucket_bytes = 1 * MIB, .bucket_bytes = 25 * MIB,
                              .check_every = 100};
}

/* ---- before the context: the node's ranks share its devices and cores ---- */

static void set_count(const char *name, long value)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    setenv(name, text, 0); /* the user's setting wins */
}

CLG_API clg_status clg_dist_setup(MPI_Comm comm, int *local_rank, int *local_size)
{
    MPI_Comm node = MPI_COMM_NULL;
    int rank = 0, size = 1;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS ||
        MPI_Comm_rank(node, &rank) != MPI_SUCCESS || MPI_Comm_size(node, &size) != MPI_SUCCESS) {
        if (node != MPI_COMM_NULL)
            MPI_Comm_free(&node);
        return CLG_STATUS_IO;
    }
    MPI_Comm_free(&node);
    char text[32];
    snprintf(text, sizeof text, "%d", rank);
    setenv("CLGRAD_LOCAL_RANK", text, 1); /* cl/device.c: the k-th device of the type */
    if (size > 1) {
        /* A rank bound to some cores by mpirun already has its share; an
         * unbound one (mpirun --oversubscribe, --bind-to none) sees them all
         * and takes 1/size of them, the remainder to the first ranks. */
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        cpu_set_t set;
        long allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : online;
        long threads = allowed;
        if (allowed >= online && online > 0)
            threads = online / size + (rank < online % size ? 1 : 0);
        if (threads < 1)
            threads = 1;
        set_count("POCL_MAX_PTHREAD_COUNT", threads); /* PoCL up to 3.x */
        set_count("POCL_CPU_MAX_CU_NUM", threads);    /* PoCL 4 and later */
        /* PoCL's pinning puts thread i on core i in every process: the ranks
         * would all crowd the first cores. */
        setenv("POCL_AFFINITY", "0", 0);
    }
    if (local_rank)
        *local_rank = rank;
    if (local_size)
        *local_size = size;
    return CLG_STATUS_OK;
}

CLG_API clg_status clg_dist_agree(MPI_Comm comm, const void *bytes, size_t count, bool *same)
{
    uint64_t h = hash_bytes(HASH_START, bytes, count), low = 0, high = 0;
    if (MPI_Allreduce(&h, &low, 1, MPI_UINT64_T, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(&h, &high, 1, MPI_UINT64_T, MPI_MAX, comm) != MPI_SUCCESS)
        return CLG_STATUS_IO;
    *same = low == high;
    return CLG_STATUS_OK;
}

/* ---- buckets ---- */

/* The parameters, in d->order, into buckets: the first closes once past
 * first_bucket_bytes, the others past bucket_bytes (DDP's rule); each
 * bucket's region of the staging buffer holds its gradients, then one flag
 * per parameter (1: this rank had a gradient). */
static void bucket_layout(clg_dist *d)
{
    size_t offset = 0, bytes = 0;
    dist_bucket *b = NULL;
    d->n_buckets = 0;
    for (int k = 0; k < d->n_params; k++) {
        dist_param *p = &d->p[d->order[k]];
        size_t cap = d->n_buckets <= 1 ? d->first_bucket_bytes : d->bucket_bytes;
        if (!b || bytes >= cap) {
            if (b) {
                b->floats = offset + (size_t)b->count - b->offset;
                offset += (size_t)b->count;
            }
            b = &d->buckets[d->n_buckets++];
            *b = (dist_bucket){.first = k, .offset = offset, .request = MPI_REQUEST_NULL};
            bytes = 0;
        }
        p->bucket = d->n_buckets - 1;
        p->offset = offset;
        offset += p->numel;
        bytes += p->numel * sizeof(float);
        b->count++;
    }
    if (b) {
        b->floats = offset + (size_t)b->count - b->offset;
        offset += (size_t)b->count;
    }
    d->staging_floats = offset;
    d->stats.buckets = (uint64_t)d->n_buckets;
}

/* Creation order is a guess at the order backward completes gradients
 * (LeNet-5 creates its dense layers first, yet their gradients are ready
 * first). As DDP does after its first iteration, the buckets are laid out
 * again in the order the first walk completed them; the lowest rank that
 * walked sends its order, so every rank builds the same buckets. The staging
 * size does not change. */
static clg_status rebuild_buckets(clg_dist *d)
{
    clg_status status = CLG_STATUS_OK;
    int mine = d->walked ? d->rank : d->size, root = d->size;
    DIST_MPI(d->ctx, "MPI_Allreduce (bucket order)",
             MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, d->comm));
    if (root == d->size)
        return status; /* no rank has walked yet */
    if (d->rank == root)
        memcpy(d->order, d->ready_order, (size_t)d->n_params * sizeof *d->order);
    DIST_MPI(d->ctx, "MPI_Bcast (bucket order)",
             MPI_Bcast(d->order, d->n_params, MPI_INT, root, d->comm));
    bucket_layout(d);
    d->rebuilt = true;
cleanup:
    return status;
}

/* ---- the rounds: read, reduce, write back ---- */

static bool event_done(cl_event event)
{
    cl_int state = CL_COMPLETE;
    clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
    return state == CL_COMPLETE || state < 0; /* an error shows at the wait */
}

/* Enqueues the bucket's reads into the staging buffer; a marker gives the
 * event even when no parameter of it has a gradient. */
static clg_status bucket_read(clg_dist *d, dist_bucket *b)
{
    clrt *rt = &d->ctx->rt;
    clg_status status = CLG_STATUS_OK;
    for (int i = b->first; i < b->first + b->count; i++) {
        dist_param *p = &d->p[d->order[i]];
        clg_tensor *t = p->tensor;
        p->had_grad = !d->no_backward && t->has_grad && t->grad;
        if (p->had_grad)
            CLRT_CHECK(rt, clEnqueueReadBuffer(rt->queue, t->grad->mem, CL_FALSE,
                                               t->grad->offset * sizeof(float),
                                               p->numel * sizeof(float), d->staging + p->offset, 0,
                                               NULL, NULL));
    }
    CLRT_CHECK(rt, clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &b->event));
    CLRT_CHECK(rt, clFlush(rt->queue));
cleanup:
    return status;
}

/* The read has finished: zeros for the parameters without a gradient, the
 * flags, the rank's scale, then the allreduce. */
static clg_status bucket_reduce(clg_dist *d, dist_bucket *b)
{
    clg_status status = CLG_STATUS_OK;
    cl_int state = CL_COMPLETE;
    clGetEventInfo(b->event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
    clReleaseEvent(b->event);
    b->event = NULL;
    if (state < 0)
        return eng_fail(d->ctx, CLG_STATUS_DEVICE,
                        "clg_dist: reading a gradient bucket failed (OpenCL status %d)", state);
    float *flags = d->staging + b->offset + (b->floats - (size_t)b->count);
    for (int i = b->first; i < b->first + b->count; i++) {
        dist_param *p = &d->p[d->order[i]];
        float *g = d->staging + p->offset;
        if (!p->had_grad)
            memset(g, 0, p->numel * sizeof *g);
        else if (d->scale != 1.0f)
            for (size_t j = 0; j < p->numel; j++)
                g[j] *= d->scale;
        flags[i - b->first] = p->had_grad ? 1.0f : 0.0f;
    }
    DIST_MPI(d->ctx, "MPI_Iallreduce", MPI_Iallreduce(MPI_IN_PLACE, d->staging + b->offset,
                                                      (int)b->floats, MPI_FLOAT, MPI_SUM, d->comm,
                                                      &b->request));
    b->overlapped = b != &d->buckets[d->n_buckets - 1];
cleanup:
    return status;
}

/* Starts whatever can start, in bucket order on every rank (collectives
 * must be issued in the same order everywhere), and lets MPI progress the
 * reductions in flight (Open MPI moves them only inside MPI calls). */
static void advance(clg_dist *d)
{
    while (!eng_failed(d->ctx) && d->next_read < d->n_buckets &&
           d->buckets[d->next_read].ready == d->buckets[d->next_read].count)
        bucket_read(d, &d->buckets[d->next_read++]);
    while (!eng_failed(d->ctx) && d->next_reduce < d->next_read &&
           event_done(d->buckets[d->next_reduce].event))
        bucket_reduce(d, &d->buckets[d->next_reduce++]);
    for (int i = 0; i < d->next_reduce && !eng_failed(d->ctx); i++) {
        dist_bucket *b = &d->buckets[i];
        if (b->request == MPI_REQUEST_NULL)
            continue;
        int done = 0;
        int code = MPI_Test(&b->request, &done, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS)
            mpi_fail(d->ctx, "MPI_Test", code);
    }
}

static void mark_ready(clg_dist *d, dist_param *p)
{
    if (!p->ready) {
        p->ready = true;
        d->buckets[p->bucket].ready++;
        d->ready_order[d->n_ready++] = (int)(p - d->p);
    }
}

static void round_begin(clg_dist *d, bool no_backward)
{
    d->in_round = true;
    d->no_backward = no_backward;
    d->next_read = d->next_reduce = 0;
    d->n_ready = 0;
    d->walked = !no_backward;
    for (int i = 0; i < d->n_params; i++) {
        d->p[i].ready = false;
        d->p[i].last = NULL;
    }
    for (int i = 0; i < d->n_buckets; i++) {
        d->buckets[i].ready = 0;
        d->buckets[i].request = MPI_REQUEST_NULL;
        d->buckets[i].overlapped = false;
    }
}

static void walk_hook(void *arg, eng_walk_event event, const eng_node *node)
{
    clg_dist *d = arg;
    if (event == ENG_WALK_BEGIN) {
        if (d->in_round) {
            eng_fail(d->ctx, CLG_STATUS_STATE,
                     "clg_backward: the gradients of the previous backward were not collected "
                     "(with a clg_dist, call clg_dist_wait after each clg_backward)");
            return;
        }
        round_begin(d, false);
        d->in_walk = true;
        /* Each parameter's last use in the walk is its earliest recorded
         * node: after that node's backward, its gradient is complete. */
        for (const eng_node *n = node; n; n = n->prev)
            for (int k = 0; k < n->n_inputs; k++)
                for (int i = 0; i < d->n_params; i++)
                    if (n->inputs[k] == d->p[i].tensor)
                        d->p[i].last = n;
        return;
    }
    if (!d->in_walk || eng_failed(d->ctx))
        return;
    /* END: whatever was never used, or only through views, is complete now. */
    for (int i = 0; i < d->n_params; i++)
        if (event == ENG_WALK_END || d->p[i].last == node)
            mark_ready(d, &d->p[i]);
    advance(d);
    if (event == ENG_WALK_END)
        d->in_walk = false;
}

CLG_API clg_status clg_dist_wait(clg_dist *d)
{
    clg_context *ctx = d->ctx;
    clg_status status = CLG_STATUS_OK;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!d->in_round)
        round_begin(d, true);
    d->in_walk = false;
    for (int i = 0; i < d->n_params; i++)
        mark_ready(d, &d->p[i]);
    advance(d);
    /* The host walked ahead of the device: poll the reads as the device
     * finishes them, so that each bucket's allreduce runs while the device
     * still computes the gradients of the next (MPI moves them inside
     * MPI_Test); a short sleep between polls leaves the cores to a CPU device. */
    if (d->next_reduce < d->next_read)
        ctx->rt.counters.host_syncs++;
    while (d->next_reduce < d->next_read && !eng_failed(ctx)) {
        nanosleep(&(struct timespec){0, 20000}, NULL);
        advance(d);
    }
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    /* MPI_Wait would spin on a core; ranks that share a CPU device with
     * their PoCL threads get it back between polls. */
    double start = MPI_Wtime();
    for (int i = 0; i < d->n_buckets; i++) {
        dist_bucket *b = &d->buckets[i];
        for (int done = 0;;) {
            DIST_MPI(ctx, "MPI_Test (gradient allreduce)",
                     MPI_Test(&b->request, &done, MPI_STATUS_IGNORE));
            if (done)
                break;
            nanosleep(&(struct timespec){0, 20000}, NULL);
        }
        d->stats.overlapped_buckets += b->overlapped ? 1.0 : 0.0;
    }
    d->stats.wait_seconds += MPI_Wtime() - start;

    /* The sums go back; a parameter no rank had a gradient for stays none. */
    for (int i = 0; i < d->n_buckets; i++) {
        dist_bucket *b = &d->buckets[i];
        const float *flags = d->staging + b->offset + (b->floats - (size_t)b->count);
        for (int j = 0; j < b->count; j++) {
            dist_param *p = &d->p[d->order[b->first + j]];
            if (flags[j] == 0.0f) {
                p->tensor->has_grad = false;
                continue;
            }
            bool accumulate = false;
            clg_tensor *g = eng_grad_dest(ctx, p->tensor, &accumulate);
            if (!g)
                continue; /* frozen here (requires_grad off): nothing to write */
            CLRT_CHECK(&ctx->rt,
                       clEnqueueWriteBuffer(ctx->rt.queue, g->mem, CL_FALSE,
                                            g->offset * sizeof(float), p->numel * sizeof(float),
                                            d->staging + p->offset, 0, NULL, NULL));
        }
    }
    d->in_round = false;
    d->stats.steps++;
    if (!d->rebuilt && (status = rebuild_buckets(d)) != CLG_STATUS_OK)
        goto cleanup;
    if (d->check_every > 0 && d->stats.steps % (uint64_t)d->check_every == 0)
        return clg_dist_check(d);
cleanup:
    return eng_failed(ctx) ? ctx->rt.error.status : status;
}

/* ---- parameters across ranks ---- */

/* Rank 0's values of every entry (buffers too, or buffers only) on every rank. */
static clg_status broadcast(clg_dist *d, bool buffers_only)
{
    clg_context *ctx = d->ctx;
    clg_status status = CLG_STATUS_OK;
    float *host = NULL;
    for (size_t i = 0; i < clg_params_count(d->params); i++) {
        if (buffers_only && !clg_params_is_buffer(d->params, i))
            continue;
        clg_tensor *t = clg_params_tensor(d->params, i);
        size_t n = (size_t)clg_tensor_numel(t);
        float *grown = realloc(host, n * sizeof *host);
        if (!grown) {
            status = eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
            goto cleanup;
        }
        host = grown;
        if (d->rank == 0 && (status = clg_tensor_download(t, host, n)) != CLG_STATUS_OK)
            goto cleanup;
        DIST_MPI(ctx, "MPI_Bcast (parameters)",
                 MPI_Bcast(host, (int)n, MPI_FLOAT, 0, d->comm));
        if (d->rank != 0 && (status = clg_tensor_upload(t, host, n)) != CLG_STATUS_OK)
            goto cleanup;
    }
    /* clg_tensor_upload stages its copies: `host` may go at once. */
cleanup:
    free(host);
    return status;
}

CLG_API clg_status clg_dist_check(clg_dist *d)
{
    clg_context *ctx = d->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    clg_status status = broadcast(d, true);
    if (status != CLG_STATUS_OK)
        return status;
    size_t n = clg_params_count(d->params);
    uint64_t *h = calloc(3 * (n ? n : 1), sizeof *h);
    float *host = NULL;
    if (!h) {
        status = eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        clg_tensor *t = clg_params_tensor(d->params, i);
        size_t count = (size_t)clg_tensor_numel(t);
        float *grown = realloc(host, count * sizeof *host);
        if (!grown) {
            status = eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
            goto cleanup;
        }
        host = grown;
        if ((status = clg_tensor_download(t, host, count)) != CLG_STATUS_OK)
            goto cleanup;
        h[i] = hash_bytes(HASH_START, host, count * sizeof *host);
    }
    DIST_MPI(ctx, "MPI_Allreduce (parameter check)",
             MPI_Allreduce(h, h + n, (int)n, MPI_UINT64_T, MPI_MIN, d->comm));
    DIST_MPI(ctx, "MPI_Allreduce (parameter check)",
             MPI_Allreduce(h, h + 2 * n, (int)n, MPI_UINT64_T, MPI_MAX, d->comm));
    for (size_t i = 0; i < n; i++)
        if (h[n + i] != h[2 * n + i]) {
            status = eng_fail(ctx, CLG_STATUS_MISMATCH,
                              "clg_dist_check: \"%s\" differs across the %d ranks after %llu "
                              "steps (hashes %016llx to %016llx): the ranks no longer train "
                              "the same model",
                              clg_params_name(d->params, i), d->size,
                              (unsigned long long)d->stats.steps, (unsigned long long)h[n + i],
                              (unsigned long long)h[2 * n + i]);
            break;
        }
cleanup:
    free(host);
    free(h);
    return status;
}

CLG_API clg_status clg_dist_sum(clg_dist *d, double *values, size_t count)
{
    clg_status status = CLG_STATUS_OK;
    if (eng_failed(d->ctx))
        return d->ctx->rt.error.status;
    DIST_MPI(d->ctx, "MPI_Allreduce (clg_dist_sum)",
             MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_DOUBLE, MPI_SUM, d->comm));
cleanup:
    return status;
}

/* ---- lifetime ---- */

/* Names, shapes and kinds of every entry, hashed: the ranks must agree. */
static uint64_t layout_hash(const clg_params *params)
{
    uint64_t h = HASH_START;
    for (size_t i = 0; i < clg_params_count(params); i++) {
        const char *name = clg_params_name(params, i);
        clg_tensor *t = clg_params_tensor(params, i);
        h = hash_bytes(h, name, strlen(name) + 1);
        bool buffer = clg_params_is_buffer(params, i);
        h = hash_bytes(h, &buffer, sizeof buffer);
        h = hash_bytes(h, &t->rank, sizeof t->rank);
        h = hash_bytes(h, t->shape, (size_t)t->rank * sizeof t->shape[0]);
    }
    return h;
}

/* The trainable parameters, last created first (the order before the first
 * walk tells the real one). */
static bool plan_params(clg_dist *d)
{
    size_t n = clg_params_count(d->params);
    d->p = calloc(n ? n : 1, sizeof *d->p);
    d->order = calloc(n ? n : 1, sizeof *d->order);
    d->ready_order = calloc(n ? n : 1, sizeof *d->ready_order);
    d->buckets = calloc(n ? n : 1, sizeof *d->buckets);
    if (!d->p || !d->order || !d->ready_order || !d->buckets)
        return false;
    for (size_t k = n; k-- > 0;) {
        if (clg_params_is_buffer(d->params, k))
            continue;
        dist_param *p = &d->p[d->n_params];
        p->tensor = clg_params_tensor(d->params, k);
        p->name = clg_params_name(d->params, k);
        p->numel = (size_t)clg_tensor_numel(p->tensor);
        d->order[d->n_params] = d->n_params;
        d->n_params++;
    }
    return true;
}
CLG_API clg_dist *clg_dist_create(clg_context *ctx, MPI_Comm comm, const clg_params *params,
                                  const clg_dist_options *options)
{
    if (eng_failed(ctx))
        return NULL;
    clg_status status = CLG_STATUS_OK;
    clg_dist_options o = options ? *options : clg_dist_options_default();
    if (!params || o.first_bucket_bytes == 0 || o.bucket_bytes == 0 || o.check_every < 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_dist_create: params is NULL, a bucket size is 0 or check_every < 0");
        return NULL;
    }
    if (ctx->walk_hook) {
        eng_fail(ctx, CLG_STATUS_STATE, "clg_dist_create: this context has a clg_dist already");
        return NULL;
    }
    clg_dist *d = calloc(1, sizeof *d);
    if (!d) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    d->ctx = ctx;
    d->params = params;
    d->comm = MPI_COMM_NULL;
    d->check_every = o.check_every;
    DIST_MPI(ctx, "MPI_Comm_dup", MPI_Comm_dup(comm, &d->comm));
    DIST_MPI(ctx, "MPI_Comm_set_errhandler",
             MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN));
    DIST_MPI(ctx, "MPI_Comm_rank", MPI_Comm_rank(d->comm, &d->rank));
    DIST_MPI(ctx, "MPI_Comm_size", MPI_Comm_size(d->comm, &d->size));
    d->scale = 1.0f / (float)d->size;

    uint64_t layout = layout_hash(params);
    bool same = false;
    if (clg_dist_agree(d->comm, &layout, sizeof layout, &same) != CLG_STATUS_OK) {
        eng_fail(ctx, CLG_STATUS_IO, "clg_dist_create: MPI_Allreduce failed comparing the models");
        goto cleanup;
    }
    if (!same) {
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "clg_dist_create: the %d ranks' parameters differ in names or shapes (%zu "
                 "entries on rank %d): every rank must build the same model",
                 d->size, clg_params_count(params), d->rank);
        goto cleanup;
    }
    if (broadcast(d, false) != CLG_STATUS_OK)
        goto cleanup;
    d->first_bucket_bytes = o.first_bucket_bytes;
    d->bucket_bytes = o.bucket_bytes;
    if (!plan_params(d)) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        goto cleanup;
    }
    bucket_layout(d);
    if (d->staging_floats > 0) {
        clrt *rt = &ctx->rt;
        size_t bytes = d->staging_floats * sizeof(float);
        cl_int code = CL_SUCCESS;
        d->staging_mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                                        bytes, NULL, &code);
        CLRT_CHECK(rt, code);
        rt->counters.device_allocations++;
        d->staging = clEnqueueMapBuffer(rt->queue, d->staging_mem, CL_TRUE,
                                        CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0, NULL, NULL, &code);
        CLRT_CHECK(rt, code);
        rt->counters.host_syncs++;
    }
    d->stats.bytes_per_step = d->staging_floats * sizeof(float);
    ctx->walk_hook = walk_hook;
    ctx->walk_hook_arg = d;
    return d;
cleanup:
    (void)status;
    clg_dist_destroy(d);
    return NULL;
}

CLG_API void clg_dist_destroy(clg_dist *d)
{
    if (!d)
        return;
    clg_context *ctx = d->ctx;
    if (ctx->walk_hook_arg == d) {
        ctx->walk_hook = NULL;
        ctx->walk_hook_arg = NULL;
    }
    /* MPI may still write into the staging buffer until its requests end. */
    for (int i = 0; i < d->n_buckets; i++) {
        dist_bucket *b = &d->buckets[i];
        if (b->request != MPI_REQUEST_NULL)
            MPI_Wait(&b->request, MPI_STATUS_IGNORE);
        if (b->event) {
            clWaitForEvents(1, &b->event);
            clReleaseEvent(b->event);
        }
    }
    if (d->staging_mem) {
        if (d->staging) {
            clEnqueueUnmapMemObject(ctx->rt.queue, d->staging_mem, d->staging, 0, NULL, NULL);
            clFinish(ctx->rt.queue);
        }
        clReleaseMemObject(d->staging_mem);
    }
    if (d->comm != MPI_COMM_NULL)
        MPI_Comm_free(&d->comm);
    free(d->buckets);
    free(d->ready_order);
    free(d->order);
    free(d->p);
    free(d);
}

CLG_API int clg_dist_rank(const clg_dist *d) { return d->rank; }
CLG_API int clg_dist_size(const clg_dist *d) { return d->size; }
CLG_API void clg_dist_set_grad_scale(clg_dist *d, float scale) { d->scale = scale; }

CLG_API void clg_dist_stats_get(const clg_dist *d, clg_dist_stats *out) { *out = d->stats; }
