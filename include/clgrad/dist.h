/* clgrad/dist.h: data-parallel training over MPI, one process per device.
 *
 * Every rank holds the whole model; the global batch is split across ranks;
 * each rank runs forward and backward on its share, the parameter gradients
 * are summed across ranks, and every rank takes the same optimizer step, so
 * the parameters stay identical (PyTorch's DistributedDataParallel). No MPI
 * understands OpenCL buffers, so gradients travel through host memory:
 *
 *     MPI_Init(&argc, &argv);
 *     clg_dist_setup(MPI_COMM_WORLD, NULL, NULL);   // before the first OpenCL call
 *     clg_context_create(NULL, &ctx);                // the k-th device for local rank k
 *     clg_model *model = ...; clg_optim *opt = ...;
 *     clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL);
 *     for (each global batch of B samples) {
 *         take this rank's share, n of the B samples;
 *         clg_dist_set_grad_scale(dist, (float)n / B);   // a mean loss over uneven shares
 *         clg_step_begin(ctx);
 *         loss = ...forward on the share...;
 *         clg_optim_zero_grad(opt);
 *         clg_backward(loss);         // buckets start their allreduces as they complete
 *         clg_dist_wait(dist);        // the summed gradients are back in place
 *         clg_optim_step(opt);
 *         clg_step_end(ctx);
 *     }
 *     clg_dist_destroy(dist); ...; MPI_Finalize();
 *
 * Buckets: the trainable parameters are grouped into buckets of about
 * 1 MiB for the first and 25 MiB after, as DDP: at first in reverse order of
 * creation, and from the first step on in the order that step's backward
 * completed them (agreed across ranks). During clg_backward a hook in the
 * tape walk notes when the last node using a parameter has enqueued its
 * gradient; once every gradient of a bucket (and of the buckets before it:
 * collectives start in the same order on every rank) is enqueued, a
 * non-blocking read copies the bucket into pinned host memory (an OpenCL
 * buffer allocated with CL_MEM_ALLOC_HOST_PTR and kept mapped, the
 * page-locked memory GPU drivers DMA from). The host walks ahead of the
 * device, so the reads end later: the hook and then clg_dist_wait poll them,
 * and as each ends the host scales the bucket by the rank's gradient scale
 * and starts MPI_Iallreduce (sum) on it, while the device still computes the
 * gradients of the buckets after it. clg_dist_wait then waits for the
 * reductions and writes the sums back with non-blocking writes; the
 * optimizer step that follows is the one-process step.
 *
 * A parameter whose gradient is none on every rank stays none (the optimizer
 * skips it, as in one process); one with a gradient on some rank gets the
 * sum, ranks without one counting zero. A rank with no samples in a step
 * (a last batch smaller than the ranks) calls clg_dist_wait without
 * clg_backward and contributes zeros.
 *
 * Checks: clg_dist_create compares the parameter names and shapes across
 * ranks and broadcasts rank 0's values; clg_dist_check (also every
 * `check_every` steps from clg_dist_wait) compares a hash of every rank's
 * parameters, and a difference is CLG_STATUS_MISMATCH naming the first
 * parameter that differs, never silent drift. Buffers (batch norm's running
 * statistics, which see different data on each rank) are not summed; they
 * are broadcast from rank 0 at each check, as DDP's broadcast_buffers does at
 * each forward.
 *
 * Errors: the library duplicates the communicator and sets MPI_ERRORS_RETURN
 * on its copy; a failed MPI call is CLG_STATUS_IO with a message naming the
 * call and MPI's reason, in the context like every other error. The library
 * never aborts: a program that cannot go on calls MPI_Abort itself, which
 * ends every rank at once (the ranks still waiting in a collective would
 * otherwise wait for ever). A rank that dies makes mpirun end the others.
 *
 * Device per rank: clg_dist_setup finds the ranks sharing this node
 * (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED) and sets CLGRAD_LOCAL_RANK;
 * device choice (see clg_context_options.device) then takes the k-th device
 * of the chosen type for local rank k (modulo their number) unless
 * CLGRAD_DEVICE names one device ("P:D" or a name). Without clg_dist_setup,
 * Open MPI's OMPI_COMM_WORLD_LOCAL_RANK is used. Ranks that end up on one CPU
 * device would each start a PoCL thread per core; clg_dist_setup gives each
 * its share of the cores the process may run on (POCL_MAX_PTHREAD_COUNT,
 * read by PoCL 1.x-3.x, and POCL_CPU_MAX_CU_NUM, its name from PoCL 4) and
 * turns PoCL's thread pinning off (POCL_AFFINITY=0), which would pin every
 * rank's threads to the same first cores. Variables the user set win. */
#ifndef CLGRAD_DIST_H
#define CLGRAD_DIST_H

#include <mpi.h>

#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clg_dist clg_dist;

typedef struct clg_dist_options {
    size_t first_bucket_bytes; /* default 1 MiB */
    size_t bucket_bytes;       /* default 25 MiB */
    int check_every;           /* clg_dist_wait runs clg_dist_check every this many
                                  steps; 0: never (default 100) */
} clg_dist_options;

CLG_API clg_dist_options clg_dist_options_default(void);

/* Call once per process after MPI_Init and before any OpenCL call
 * (clg_context_create, clg_devices_list): sets the environment for the
 * device choice and PoCL's thread count (see above). *local_rank and
 * *local_size (either may be NULL) receive this rank's place among the
 * ranks on its node. CLG_STATUS_IO when an MPI call fails. */
CLG_API clg_status clg_dist_setup(MPI_Comm comm, int *local_rank, int *local_size);

/* Collective over `comm`. Borrows ctx and params (and their tensors) for its
 * lifetime; installs the backward hook on ctx (one clg_dist per context);
 * checks that every rank has the same parameter names and shapes
 * (CLG_STATUS_MISMATCH otherwise) and broadcasts rank 0's parameters and
 * buffers. NULL with the context error set on failure. options may be NULL
 * (the defaults). */
CLG_API clg_dist *clg_dist_create(clg_context *ctx, MPI_Comm comm, const clg_params *params,
                                  const clg_dist_options *options);
/* Waits for reductions in flight and removes the hook. Accepts NULL. */
CLG_API void clg_dist_destroy(clg_dist *dist);

CLG_API int clg_dist_rank(const clg_dist *dist);
CLG_API int clg_dist_size(const clg_dist *dist);

/* What each rank's gradients are multiplied by before the sum: 1/size
 * (the default) averages them; for a mean loss over this rank's n of a
 * global batch of B samples, n/B gives the global batch's mean gradient
 * whatever the split. Holds until changed. */
CLG_API void clg_dist_set_grad_scale(clg_dist *dist, float scale);

/* Between clg_backward and the optimizer step: completes every bucket's read
 * and reduction and writes the summed gradients back (non-blocking). Also
 * valid without a clg_backward since the last wait (this rank contributes
 * zeros). Collective. */
CLG_API clg_status clg_dist_wait(clg_dist *dist);

/* Broadcasts rank 0's buffers, then compares a hash of every parameter and
 * buffer across ranks: CLG_STATUS_MISMATCH names the first that differs.
 * Reads every parameter (host syncs). Collective. */
CLG_API clg_status clg_dist_check(clg_dist *dist);

/* Sums `count` doubles over the ranks, in place (a loss, an accuracy
 * count). Collective; blocking. */
CLG_API clg_status clg_dist_sum(clg_dist *dist, double *values, size_t count);

/* Whether `bytes` are the same on every rank (a hash's minimum and maximum
 * compared): for refusing runs whose options or builds differ. Collective
 * over `comm`; CLG_STATUS_IO when an MPI call fails (nothing else is
 * written: there may be no context yet). */
CLG_API clg_status clg_dist_agree(MPI_Comm comm, const void *bytes, size_t count, bool *same);

typedef struct clg_dist_stats {
    uint64_t steps;            /* clg_dist_wait calls */
    uint64_t buckets;          /* buckets per step */
    uint64_t bytes_per_step;   /* gradient bytes each rank sends into the allreduce */
    double wait_seconds;       /* time clg_dist_wait spent blocked in MPI_Waitall */
    double overlapped_buckets; /* allreduces started before the step's last bucket was
                                  read, so overlapping the device's backward */
} clg_dist_stats;

CLG_API void clg_dist_stats_get(const clg_dist *dist, clg_dist_stats *out);

#ifdef __cplusplus
}
#endif
#endif
