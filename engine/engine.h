/* engine/engine.h: the private side of contexts and tensors, the tape, and
 * the helpers every op uses (argument checks, step-tensor allocation,
 * recording, gradient destinations). Internal prefix: eng_. */
#ifndef CLGRAD_ENGINE_H
#define CLGRAD_ENGINE_H

#include <stdarg.h>

#include "cl/runtime.h"
#include "clgrad/tensor.h"

typedef struct eng_node eng_node;

/* The backward walk's hook (dist/ starts gradient allreduces with it while
 * backward goes on): BEGIN before the first node (node: the last recorded,
 * so the hook can scan the tape), NODE after each node's backward has been
 * enqueued, END once the walk is over (node NULL), also after a failure. At
 * most one per context; NULL when none. */
typedef enum eng_walk_event { ENG_WALK_BEGIN, ENG_WALK_NODE, ENG_WALK_END } eng_walk_event;
typedef void (*eng_walk_hook)(void *arg, eng_walk_event event, const eng_node *node);

/* Reads node->output's gradient and accumulates into the gradients of the
 * inputs that require one. */
typedef void (*eng_backward_fn)(clg_context *ctx, const eng_node *node);

#define ENG_MAX_INPUTS 3
#define ENG_MAX_SAVED 3

/* One recorded op: what backward needs, nothing more. */
struct eng_node {
    const char *name;
    eng_backward_fn backward;
    clg_tensor *inputs[ENG_MAX_INPUTS];
    int n_inputs;
    clg_tensor *output;
    clg_tensor *saved[ENG_MAX_SAVED];
    /* The op's own parameters for its backward: a struct the op declares
     * next to its forward and backward (ops/<family>.c, e.g. conv2d_saved),
     * zeroed, from the step's host arena; NULL for ops that record none. */
    void *state;
    eng_node *prev; /* the node recorded before this one */
};

/* Host memory for a step's tensor structs and tape nodes: bump allocation
 * over chunks that are kept and reused, so steady-state steps do not malloc. */
typedef struct eng_host_chunk {
    struct eng_host_chunk *next;
    size_t capacity;
    size_t used;
    max_align_t data[];
} eng_host_chunk;

struct clg_context {
    clrt rt;
    bool grad_enabled;
    eng_host_chunk *host_chunks;   /* all chunks, the current one first */
    eng_host_chunk *host_current;
    eng_node *tape_last;
    bool tape_consumed;
    eng_walk_hook walk_hook; /* see eng_walk_event */
    void *walk_hook_arg;
};

struct clg_tensor {
    clg_context *ctx;
    cl_mem mem;
    size_t offset; /* elements */
    clg_dtype dtype;
    int rank;
    int64_t shape[CLG_MAX_RANK];
    int64_t strides[CLG_MAX_RANK]; /* elements */
    clrt_block *block;             /* storage owned by a persistent tensor */
    bool persistent;
    bool requires_grad;
    clg_tensor *grad; /* storage for the gradient (contiguous), or NULL */
    bool has_grad;    /* false: the gradient is "none" even if storage exists */
};

/* ---- errors ---- */

static inline bool eng_failed(const clg_context *ctx)
{
    return ctx->rt.error.status != CLG_STATUS_OK;
}
clg_status eng_fail(clg_context *ctx, clg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* calloc(1, bytes) for an object's host struct; NULL, with
 * CLG_STATUS_OUT_OF_MEMORY and "<op>: out of host memory" in the context,
 * when there is none. */
void *eng_calloc(clg_context *ctx, const char *op, size_t bytes);
/* "[2, 3]" */
char *eng_shape_str(const clg_tensor *t, char *buf, size_t capacity);

/* ---- tensors ---- */

size_t eng_dtype_size(clg_dtype dtype);
int64_t eng_numel(int rank, const int64_t *shape);
void eng_contiguous_strides(int rank, const int64_t *shape, int64_t *strides);
bool eng_same_shape(const clg_tensor *a, const clg_tensor *b);

/* A contiguous step tensor from the arena (contents undefined). */
clg_tensor *eng_new(clg_context *ctx, clg_dtype dtype, int rank, const int64_t *shape);
/* A step tensor viewing src's storage with another shape/strides/offset. */
clg_tensor *eng_view(clg_context *ctx, const clg_tensor *src, int rank, const int64_t *shape,
                     const int64_t *strides, size_t offset);
/* src itself when contiguous, else a contiguous copy (recorded on the tape,
 * so gradients flow through it). */
clg_tensor *eng_contiguous(clg_context *ctx, clg_tensor *src);

/* Host memory valid until the end of the step. */
void *eng_host_alloc(clg_context *ctx, size_t bytes);

/* Shape and strides padded on the left to rank 4, as kernel arguments. */
void eng_shape4(const clg_tensor *t, cl_int *shape4);
void eng_strides4(const clg_tensor *t, cl_int *strides4);

/* ---- op argument checks (tensor.c) ---- */

/* The context of an op's inputs when every input is present and no error is
 * pending; NULL otherwise (sticky errors: the op returns NULL too). */
clg_context *eng_op_begin(const char *op, int n, clg_tensor *const *inputs);
/* The same, and every input must be float32 ("clg_relu: input must be
 * float32, not an int32 tensor of shape [2, 3]"). */
clg_context *eng_op_begin_f32(const char *op, int n, clg_tensor *const *inputs);

/* Normalises a possibly negative axis for a tensor of `rank`; records an error
 * naming `op` and returns -1 when out of range. */
int eng_axis(clg_context *ctx, const char *op, const clg_tensor *t, int axis);

/* Kernel arguments for a tensor's buffer and element offset. */
#define ENG_ARG_TENSOR(t) CLRT_ARG_BUFFER((t)->mem, clg_tensor_numel(t)), CLRT_ARG_INT((t)->offset)
/* A tensor's buffer alone, for kernels that take its offset packed with
 * other scalars in a vector argument (CLRT_ARG_VECTOR). */
#define ENG_ARG_MEM(t) CLRT_ARG_BUFFER((t)->mem, clg_tensor_numel(t))

/* Enqueues engine/tensor.cl's `kernel` over every element of src (any
 * strides) into the contiguous dst of its shape: copy_strided, or, with
 * *flag appended as its last argument, accumulate_strided. */
clg_status eng_launch_strided(clg_context *ctx, const char *kernel, const clg_tensor *src,
                              clg_tensor *dst, const int *flag);

/* ---- the tape and gradients (tape.c) ---- */

/* Whether an op with these inputs must record itself. */
bool eng_needs_grad(const clg_context *ctx, int n, clg_tensor *const *inputs);
/* Appends a node (output->requires_grad becomes true) and returns it so the
 * op can fill saved tensors and its parameters: node->state points at
 * state_bytes of zeroed arena memory (sizeof the op's saved struct; 0 for
 * none, and state is NULL). NULL on host memory failure. */
eng_node *eng_record(clg_context *ctx, const char *name, eng_backward_fn backward,
                     clg_tensor *output, int n, clg_tensor *const *inputs, size_t state_bytes);

/* Where the gradient of `t` goes: NULL when t needs none. Otherwise its
 * gradient tensor (allocated on first use: persistent for persistent
 * tensors, from the arena for step tensors) and *accumulate: false when
 * the gradient was none, so the caller must write every element (beta = 0),
 * true when the caller must add to it (beta = 1). */
clg_tensor *eng_grad_dest(clg_context *ctx, clg_tensor *t, bool *accumulate);

/* grad(t) (+)= src, where src has t's shape but any strides. */
void eng_grad_accumulate(clg_context *ctx, clg_tensor *t, const clg_tensor *src);

#endif
