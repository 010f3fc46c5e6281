/* clgrad/context.h: the context (one OpenCL device, one in-order queue, the
 * tape, the sticky error), device discovery, training-step brackets, grad
 * mode and the counters that prove the performance contract.
 *
 * A context is used by one thread at a time. Every call that can fail either
 * returns a clg_status or returns NULL; the reason, naming the op and the
 * shapes or the file, is held by the context until clg_context_clear_error.
 * Errors are sticky: once one is recorded, ops return NULL without work, so a
 * whole step can be checked once, at the loss. The library never exits,
 * aborts or prints. */
#ifndef CLGRAD_CONTEXT_H
#define CLGRAD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(CLGRAD_BUILDING)
#define CLG_API __attribute__((visibility("default")))
#else
#define CLG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clg_status {
    CLG_STATUS_OK = 0,
    CLG_STATUS_INVALID_ARGUMENT, /* a parameter is out of range or NULL */
    CLG_STATUS_SHAPE,            /* tensor shapes do not fit the op */
    CLG_STATUS_OUT_OF_MEMORY,    /* a host or device allocation failed */
    CLG_STATUS_DEVICE,           /* an OpenCL or CLBlast call failed */
    CLG_STATUS_BUILD,            /* a kernel did not compile; the message holds the log */
    CLG_STATUS_NO_DEVICE,        /* no OpenCL device, or none matches CLGRAD_DEVICE */
    CLG_STATUS_IO,               /* a file could not be opened, read or written */
    CLG_STATUS_FORMAT,           /* a file's contents are malformed */
    CLG_STATUS_MISMATCH,         /* a checkpoint's names or shapes differ from the model's */
    CLG_STATUS_STATE             /* the call is not valid now (backward twice, ...) */
} clg_status;

/* Static string such as "shape"; never NULL. */
CLG_API const char *clg_status_name(clg_status status);

typedef struct clg_context clg_context;

typedef struct clg_context_options {
    /* Device to use: "gpu", "cpu", "P:D" (platform and device index), or a
     * case-insensitive substring of the device name. NULL: the CLGRAD_DEVICE
     * environment variable, else the first GPU, else the first CPU. */
    const char *device;
    /* Folder for compiled kernel binaries. NULL: CLGRAD_CACHE_DIR, else
     * $XDG_CACHE_HOME/clgrad, else $HOME/.cache/clgrad. */
    const char *cache_dir;
    /* false: never read or write the disk cache (also CLGRAD_CACHE=off). */
    bool disk_cache;
    /* Read kernel sources from this source tree (the folder holding ops/, cl/)
     * instead of the embedded copies, for fast kernel iteration. NULL:
     * CLGRAD_KERNEL_DIR, else embedded. */
    const char *kernel_dir;
    /* The GEMM implementation every product runs on, one of the names
     * clg_gemm_choice gives ("clblast", "outer-8x2", "dot-4x4", ...), for
     * comparing them (clgrad check runs matmul through each so). NULL: the CLGRAD_GEMM environment
     * variable, else per shape the tuned choice or the device's default. A
     * name that is none of them fails clg_context_create listing them. */
    const char *gemm;
} clg_context_options;

CLG_API clg_context_options clg_context_options_default(void);

/* Opens the chosen device. *out is set whenever host memory allows, also on
 * failure, so that clg_context_error can say why (for an unknown device it
 * lists every device there is); destroy it in both cases. opts may be NULL. */
CLG_API clg_status clg_context_create(const clg_context_options *opts, clg_context **out);
/* Releases everything the context owns. Accepts NULL. Tensors, layers and
 * optimizers of the context must be destroyed first. */
CLG_API void clg_context_destroy(clg_context *ctx);

/* The sticky error: status, and a message borrowed until the next error or
 * clear ("" when none). */
CLG_API clg_status clg_context_status(const clg_context *ctx);
CLG_API const char *clg_context_error(const clg_context *ctx);
CLG_API void clg_context_clear_error(clg_context *ctx);

/* The device in use, e.g. "pthread-haswell-AMD EPYC 7B13"; borrowed. */
CLG_API const char *clg_context_device_name(const clg_context *ctx);

/* The launch plan in force, "cpu" or "gpu" (static storage): how every
 * kernel launch is shaped. cpu: a work-item per row or plane, small groups;
 * gpu: a work-item per element, groups of up to 256 rounded to the device's
 * SIMD width, two-stage reductions. The default follows the device type
 * (gpu for GPUs and accelerators); the environment variable
 * CLGRAD_LAUNCH=cpu|gpu forces one on any device, and any other value makes
 * clg_context_create fail with CLG_STATUS_INVALID_ARGUMENT. */
CLG_API const char *clg_context_launch_plan(const clg_context *ctx);

/* Blocks until every enqueued command has run. Counted as a host sync. */
CLG_API clg_status clg_finish(clg_context *ctx);

/* A training step. clg_step_begin clears the tape and releases whatever the
 * previous step left; clg_step_end releases every tensor the ops of the step
 * returned, at once. Op results are borrowed until the next clg_step_end (or
 * clg_step_begin): ops called outside a begin/end pair behave the same way. */
CLG_API void clg_step_begin(clg_context *ctx);
CLG_API void clg_step_end(clg_context *ctx);

/* Grad mode (PyTorch's torch.no_grad): while disabled, ops record nothing on
 * the tape and their results do not require a gradient. Returns the previous
 * setting so that callers can restore it. Enabled by default. */
CLG_API bool clg_grad_set_enabled(clg_context *ctx, bool enabled);
CLG_API bool clg_grad_is_enabled(const clg_context *ctx);

/* Device memory held by the buffer pool. Freed tensors return their memory to
 * the pool, not to the driver. */
typedef struct clg_memstats {
    size_t bytes_in_use; /* handed out to tensors, arenas and scratch now */
    size_t bytes_peak;   /* highest bytes_in_use so far */
    size_t bytes_held;   /* obtained from the driver (in use + pooled) */
} clg_memstats;
CLG_API void clg_memstats_get(const clg_context *ctx, clg_memstats *out);

/* Monotonic event counters since the context was created. A steady-state
 * training step adds nothing to device_allocations and program_builds, and
 * adds to host_syncs only the reads the caller asked for. */
typedef struct clg_counters {
    uint64_t device_allocations; /* clCreateBuffer calls */
    uint64_t program_builds;     /* clBuildProgram calls (from source or binary) */
    uint64_t disk_cache_hits;    /* programs loaded from the on-disk binary cache */
    uint64_t disk_cache_rejects; /* cache entries found damaged (checksum, length, or
                                    refused by the driver), deleted and rebuilt */
    uint64_t host_syncs;         /* blocking reads, clFinish, waits on events */
    uint64_t kernel_launches;    /* clgrad's own kernels enqueued, GEMMs aside */
    uint64_t gemm_calls;         /* GEMMs enqueued (CLBlast or clgrad's own kernels) */
} clg_counters;
CLG_API void clg_counters_get(const clg_context *ctx, clg_counters *out);

/* GEMM dispatch and tuning (what `clgrad tune` does). Every matrix product
 * goes through one dispatcher that picks, per shape, CLBlast or one of
 * clgrad's own register-blocked kernels. Its defaults come from the device
 * type (CPU: own kernels; GPU: CLBlast) and preferred vector width, so no
 * device needs tuning; tuning measures the candidates on this device for
 * given shapes and stores the winners in the cache folder (see
 * clg_context_options.cache_dir), keyed by device name and driver version.
 * Contexts created later read them and use them. The environment variable
 * CLGRAD_GEMM=<name> (a name clg_gemm_choice can return) sends every GEMM of
 * the contexts created while it is set through that one implementation, for
 * comparisons; an unknown name makes clg_context_create fail, listing the
 * names. */
typedef struct clg_gemm_shape {
    int64_t m, n, k;       /* C (m, n) = op(A) (m, k) op(B) (k, n), row-major */
    int64_t batch;         /* products in a strided batch; 1 for one */
    bool trans_a, trans_b; /* op(X) = X^T: X is stored transposed */
} clg_gemm_shape;

/* While on, the context notes each distinct GEMM shape it runs (up to 64), so
 * that one training step of a model yields the shapes to tune. Turning it on
 * forgets the shapes noted before. */
CLG_API void clg_gemm_record(clg_context *ctx, bool on);
/* Copies up to `capacity` noted shapes to `out`; returns how many there are. */
CLG_API size_t clg_gemm_recorded(const clg_context *ctx, clg_gemm_shape *out, size_t capacity);
/* The implementation the dispatcher uses for `shape` now, such as "clblast"
 * or "outer-6x2"; a static string. */
CLG_API const char *clg_gemm_choice(const clg_context *ctx, const clg_gemm_shape *shape);

typedef struct clg_gemm_tuned {
    clg_gemm_shape shape;
    const char *before; /* the choice before tuning, and its speed */
    double before_gflops;
    const char *best; /* the fastest candidate, used from now on */
    double best_gflops;
} clg_gemm_tuned;

/* Times every candidate for each of `count` shapes on scratch buffers (a few
 * seconds in all; blocks), makes the fastest the context's choice and writes
 * the table file (merged with the entries it already held; a temporary file,
 * then rename). `results` (count entries) may be NULL. CLG_STATUS_IO when the
 * disk cache is off or the file cannot be written; the choices still hold for
 * this context. */
CLG_API clg_status clg_gemm_tune(clg_context *ctx, const clg_gemm_shape *shapes, size_t count,
                                 clg_gemm_tuned *results);
/* The tuned table's file for this device ("" when the disk cache is off);
 * borrowed for the context's life. */
CLG_API const char *clg_gemm_table_path(const clg_context *ctx);

/* Kernel profiling, for finding what a step spends its device time on
 * (`clgrad train --profile`). While on, every command clgrad enqueues (its
 * own kernels, the GEMMs, buffer fills and copies) keeps an OpenCL event; at
 * each host sync (a read, clg_finish) the device times are summed per kernel
 * name and the events released. A CLBlast GEMM is one entry, "clblast_sgemm"
 * (or "clblast_sgemm_batched"), timed from a marker enqueued before it to the
 * end of its last kernel, so that its padding kernels count too. Turning
 * profiling on or off finishes the queued work and recreates the queue
 * (OpenCL enables profiling per queue); turning it on clears the totals.
 * While off, no event is created and the steady-state rules hold; while on,
 * a long stretch without reads also waits for the device every few thousand
 * commands, to bound the events held. */
CLG_API clg_status clg_context_set_profiling(clg_context *ctx, bool on);

typedef struct clg_profile_entry {
    char name[64];  /* the kernel's function name ("binary_forward", "gemm_outer"),
                       "clblast_sgemm", "(fill)" or "(copy)" */
    uint64_t count; /* commands enqueued */
    double seconds; /* their summed device time */
} clg_profile_entry;

/* Finishes the queue (a host sync), then copies up to `capacity` totals into
 * `out`, most device time first; returns how many kernel names there are. */
CLG_API size_t clg_profile_get(clg_context *ctx, clg_profile_entry *out, size_t capacity);

/* Device discovery, without a context. */
typedef enum clg_device_type {
    CLG_DEVICE_TYPE_OTHER = 0,
    CLG_DEVICE_TYPE_CPU,
    CLG_DEVICE_TYPE_GPU,
    CLG_DEVICE_TYPE_ACCELERATOR
} clg_device_type;

typedef struct clg_device_desc {
    int platform_index;
    int device_index;
    clg_device_type type;
    char platform_name[128];
    char platform_version[128];
    char name[128];
    char vendor[128];
    char version[128];          /* "OpenCL 3.0 PoCL ..." */
    char driver_version[64];
    char opencl_c_version[64];  /* "OpenCL C 1.2 ..." */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes;
    uint64_t max_alloc_bytes;
    bool fp64;
    bool fp16;
} clg_device_desc;

/* Fills up to `capacity` descriptions and sets *count to the number of devices
 * found (which may exceed capacity). Returns CLG_STATUS_NO_DEVICE when no
 * OpenCL platform is installed. */
CLG_API clg_status clg_devices_list(clg_device_desc *descs, size_t capacity, size_t *count);
/* Which of `descs` the rule above picks for `spec` (NULL: CLGRAD_DEVICE, else
 * the default). Returns the index, or -1 when nothing matches. */
CLG_API int clg_devices_pick(const clg_device_desc *descs, size_t count, const char *spec);

#ifdef __cplusplus
}
#endif
#endif
