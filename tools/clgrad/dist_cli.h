/* tools/clgrad/dist_cli.h: `mpirun -np N clgrad train` and `clgrad fraud`:
 * what the training loops call so that N processes train one model (the
 * library's clg_dist, include/clgrad/dist.h). Without MPI (no mpirun, or a build without it)
 * each call is the one-process behaviour: the whole batch, rank 0, no wait.
 * One run per process, so the state is this file's. Internal prefix:
 * cli_dist_. */
#ifndef CLGRAD_TOOLS_DIST_CLI_H
#define CLGRAD_TOOLS_DIST_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "clgrad/clgrad.h"
#include "lecture/lecture.h"

/* First thing in main, for every command; parallel: whether this command
 * line trains data-parallel under mpirun (main's table asks the command:
 * train's classifiers and fraud). Under mpirun, when parallel: MPI_Init,
 * each rank's device and PoCL threads (clg_dist_setup), the check that
 * every rank runs the same build with the same command line, and stdout
 * silenced on ranks other than 0; when not, several ranks are refused
 * (each would run the whole command). Returns -1 to go on, else the exit
 * code: a build without MPI started by mpirun with several ranks,
 * mismatched ranks, or a one-process command on several ranks. */
int cli_dist_begin(int argc, char **argv, bool parallel);
/* Last: MPI_Finalize; when `code` is a failure, MPI_Abort instead, which
 * ends every rank at once rather than leaving them waiting in a collective
 * for this one. Returns code. */
int cli_dist_end(int code);

/* Whether this process prints results and writes files: rank 0, or no MPI. */
bool cli_dist_leader(void);

/* After the model and optimizer exist: a clg_dist over `params` (rank 0's
 * values broadcast). Refuses a global batch that would leave some rank
 * without a sample in some step. false with the reason printed or in the
 * context. */
bool cli_dist_attach(clg_context *ctx, const clg_params *params, int64_t batch,
                     int64_t train_samples);
/* Before the context goes. */
void cli_dist_detach(void);

/* Gathers this rank's share of a global batch of `count` samples (rank r:
 * rows [count r / N, count (r + 1) / N) of the one-process batch), sets the
 * gradient scale to share / count, and returns the share. */
int64_t cli_dist_gather(const clg_dataset *data, const int64_t *indices, int64_t count, float *x,
                        int32_t *y);
/* Between clg_backward and clg_optim_step: the summed gradients; an error
 * goes into the context (sticky, checked with the step's). */
void cli_dist_wait(void);
/* The autoencoder trainer runs its own steps: fills options' rank, ranks
 * and reduce_gradients (the gradients summed, as its loss is a sum over
 * rows; the steps timed for cli_dist_note). Nothing without MPI. */
void cli_dist_autoencoder(lecture_autoencoder_options *options);

/* This rank's slice of n samples for evaluation. */
void cli_dist_range(int64_t n, int64_t *first, int64_t *count);
/* The same in whole blocks of `block` items (the last may be short), so
 * that each item is computed in the batch one process computes it in. */
void cli_dist_range_blocks(int64_t n, int64_t block, int64_t *first, int64_t *count);
/* After each rank filled its slice of values (cli_dist_range_blocks with
 * the same n and block): every rank's slices, on every rank. false with
 * the reason printed. */
bool cli_dist_share_floats(float *values, int64_t n, int64_t block);
/* Sums `count` values over the ranks, in place. false with the context
 * error set. */
bool cli_dist_sum(double *values, size_t count);
/* After each rank evaluated its slice: the confusion matrices (classes x
 * classes) and the summed losses added up over the ranks, in place, and
 * *accuracy recomputed from the sum. false with the context error set. */
bool cli_dist_merge_eval(int64_t *confusion, int classes, double *loss_sum, double *accuracy);
/* At an epoch's end: *mean_loss (unless NULL) becomes the mean of the
 * ranks' epoch losses, and the ranks' parameters are compared
 * (clg_dist_check). */
bool cli_dist_epoch_end(float *mean_loss);

/* For the progress lines: "  2 ranks, 4% of step time waiting on the
 * allreduce", or "" without MPI. */
const char *cli_dist_note(void);

#endif
