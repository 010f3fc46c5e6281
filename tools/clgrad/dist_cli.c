/* tools/clgrad/dist_cli.c: `mpirun -np N clgrad train` and `clgrad fraud`
 * (dist_cli.h). Built
 * with MPI when meson found it (CLGRAD_MPI); without, the same calls are
 * the one-process loop, and a run under mpirun is refused with a message
 * rather than N processes each training alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist_cli.h"

/* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's and Slurm's PMI_SIZE. */
static int launched_ranks(void)
{
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *text = getenv(names[i]);
        if (text && atoi(text) > 0)
            return atoi(text);
    }
    return 0;
}

/* mpirun with several ranks and a command that would run whole in each:
 * N copies writing the same files is never what was meant. Said once, by
 * the first rank; the status is a usage error on every rank. */
static int refuse_single_process(int argc, char **argv, int ranks)
{
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!rank)
        rank = getenv("PMI_RANK");
    if (!rank || atoi(rank) == 0)
        cli_error("%s%s%s: started by mpirun with %d ranks, but it runs in one process (data "
                  "parallel under mpirun: train lenet5|mlp|logreg|rnn|lstm and fraud); run it "
                  "without mpirun",
                  argc >= 2 ? argv[1] : "clgrad", argc >= 3 ? " " : "", argc >= 3 ? argv[2] : "",
                  ranks);
    return CLI_EXIT_USAGE;
}

#ifdef CLGRAD_MPI

#include <mpi.h>

#include "clgrad/dist.h"

static struct {
    bool on;             /* MPI_Init was called */
    const char *command; /* for messages: "train" or "fraud" */
    int rank, size;
    clg_context *ctx;
    clg_dist *dist;
    double last_step;    /* when the previous step began (0: none in this epoch) */
    double step_seconds; /* the training steps' time, evaluations excluded */
    char note[96];
} dist;

/* A hash of this executable's bytes: the ranks must run one build. */
static uint64_t executable_hash(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f)
        return 0;
    unsigned char buffer[1 << 16];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0)
        for (size_t i = 0; i < n; i++) {
            h ^= buffer[i];
            h *= 0x100000001b3ull;
        }
    fclose(f);
    return h;
}

int cli_dist_begin(int argc, char **argv, bool parallel)
{
    int ranks = launched_ranks();
    if (ranks > 1 && !parallel)
        return refuse_single_process(argc, argv, ranks);
    if (!parallel || ranks == 0)
        return -1;
    dist.command = argv[1];
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        cli_error("%s: MPI_Init failed", dist.command);
        return CLI_EXIT_FAILURE;
    }
    dist.on = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &dist.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &dist.size);
    /* Every argument and the build: a rank started with other options
     * would train another model, or the same one on other batches. */
    size_t bytes = sizeof(uint64_t);
    for (int i = 1; i < argc; i++)
        bytes += strlen(argv[i]) + 1;
    char *joined = malloc(bytes);
    if (!joined) {
        cli_error("%s: out of host memory", dist.command);
        return cli_dist_end(CLI_EXIT_FAILURE);
    }
    uint64_t build = executable_hash();
    memcpy(joined, &build, sizeof build);
    for (int i = 1, at = (int)sizeof build; i < argc; i++) {
        size_t length = strlen(argv[i]) + 1;
        memcpy(joined + at, argv[i], length);
        at += (int)length;
    }
    bool same = false;
    clg_status status = clg_dist_agree(MPI_COMM_WORLD, joined, bytes, &same);
    free(joined);
    if (status != CLG_STATUS_OK || !same) {
        if (dist.rank == 0)
            cli_error("%s: the %d ranks were not started with the same clgrad build and "
                      "options (every rank must run the same command)",
                      dist.command, dist.size);
        MPI_Finalize();
        dist.on = false;
        return CLI_EXIT_USAGE;
    }
    if (clg_dist_setup(MPI_COMM_WORLD, NULL, NULL) != CLG_STATUS_OK) {
        cli_error("%s: MPI_Comm_split_type failed finding the ranks on this machine", dist.command);
        return cli_dist_end(CLI_EXIT_FAILURE);
    }
    /* One rank reports; the others' errors still reach stderr. */
    if (dist.rank != 0 && !freopen("/dev/null", "w", stdout)) {
        cli_error("%s: cannot silence rank %d's output", dist.command, dist.rank);
        return cli_dist_end(CLI_EXIT_FAILURE);
    }
    return -1;
}

int cli_dist_end(int code)
{
    if (!dist.on)
        return code;
    dist.on = false;
    if (code != 0 && code != CLI_EXIT_USAGE) {
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, code);
    }
    MPI_Finalize();
    return code;
}

bool cli_dist_leader(void) { return dist.rank == 0; }

bool cli_dist_attach(clg_context *ctx, const clg_params *params, int64_t batch,
                     int64_t train_samples)
{
    if (!dist.on)
        return true;
    /* Every rank needs a sample in every step: the batch, and the epoch's
     * last (partial) batch, hold at least one per rank. */
    int64_t last = train_samples % batch;
    if (batch < dist.size || (last > 0 && last < dist.size)) {
        int64_t short_batch = batch < dist.size ? batch : last;
        cli_error("%s: --batch %lld leaves a batch of %lld sample%s for %d ranks; choose a "
                  "global batch of at least %d whose remainder over the %lld training samples "
                  "is 0 or at least %d",
                  dist.command, (long long)batch, (long long)short_batch, cli_plural(short_batch),
                  dist.size, dist.size, (long long)train_samples, dist.size);
        return false;
    }
    dist.ctx = ctx;
    dist.dist = clg_dist_create(ctx, MPI_COMM_WORLD, params, NULL);
    if (!dist.dist) {
        cli_context_error(ctx);
        return false;
    }
    printf("data parallel: %d ranks (mpirun), global batch %lld split across them\n", dist.size,
           (long long)batch);
    return true;
}

void cli_dist_detach(void)
{
    clg_dist_destroy(dist.dist);
    dist.dist = NULL;
}

/* A step boundary, for the share of step time spent waiting. */
static void mark_step(void)
{
    double now = cli_now();
    if (dist.last_step > 0)
        dist.step_seconds += now - dist.last_step;
    dist.last_step = now;
}

int64_t cli_dist_gather(const clg_dataset *data, const int64_t *indices, int64_t count, float *x,
                        int32_t *y)
{
    mark_step();
    int64_t first = 0, n = count;
    if (dist.dist) {
        first = count * dist.rank / dist.size;
        n = count * (dist.rank + 1) / dist.size - first;
        clg_dist_set_grad_scale(dist.dist, (float)n / (float)count);
    }
    clg_dataset_gather(data, indices + first, n, x, y);
    return n;
}

void cli_dist_wait(void)
{
    if (dist.dist)
        clg_dist_wait(dist.dist);
}

/* The trainer's reduce_gradients: one call per step on every rank, so the
 * interval between calls is a step. */
static clg_status reduce_gradients(void *arg)
{
    (void)arg;
    mark_step();
    return clg_dist_wait(dist.dist);
}

void cli_dist_autoencoder(lecture_autoencoder_options *options)
{
    if (!dist.dist)
        return;
    options->rank = dist.rank;
    options->ranks = dist.size;
    options->reduce_gradients = reduce_gradients;
    clg_dist_set_grad_scale(dist.dist, 1.0f);
}

/* Rank r's part of `count` things: [count r / N, count (r + 1) / N). */
static void rank_range(int rank, int64_t count, int64_t *first, int64_t *n)
{
    *first = count * rank / dist.size;
    *n = count * (rank + 1) / dist.size - *first;
}

void cli_dist_range(int64_t n, int64_t *first, int64_t *count)
{
    cli_dist_range_blocks(n, 1, first, count);
}

void cli_dist_range_blocks(int64_t n, int64_t block, int64_t *first, int64_t *count)
{
    if (!dist.dist) {
        *first = 0;
        *count = n;
        return;
    }
    int64_t blocks = (n + block - 1) / block, first_block, n_blocks;
    rank_range(dist.rank, blocks, &first_block, &n_blocks);
    int64_t end = (first_block + n_blocks) * block;
    *first = first_block * block < n ? first_block * block : n;
    *count = (end < n ? end : n) - *first;
}

bool cli_dist_share_floats(float *values, int64_t n, int64_t block)
{
    if (!dist.dist)
        return true;
    int *counts = malloc(2 * (size_t)dist.size * sizeof *counts);
    if (!counts) {
        cli_error("out of host memory");
        return false;
    }
    int *offsets = counts + dist.size;
    int64_t blocks = (n + block - 1) / block;
    for (int r = 0; r < dist.size; r++) {
        int64_t first_block, n_blocks;
        rank_range(r, blocks, &first_block, &n_blocks);
        int64_t first = first_block * block < n ? first_block * block : n;
        int64_t end = (first_block + n_blocks) * block;
        offsets[r] = (int)first;
        counts[r] = (int)((end < n ? end : n) - first);
    }
    /* MPI counts are ints: 2^31 scores are far beyond a transaction file. */
    int code = n < INT32_MAX ? MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values, counts,
                                              offsets, MPI_FLOAT, MPI_COMM_WORLD)
                             : MPI_ERR_COUNT;
    free(counts);
    if (code != MPI_SUCCESS) {
        cli_error("%s: MPI_Allgatherv of %lld scores failed (MPI error %d)", dist.command,
                  (long long)n, code);
        return false;
    }
    return true;
}

bool cli_dist_sum(double *values, size_t count)
{
    return !dist.dist || clg_dist_sum(dist.dist, values, count) == CLG_STATUS_OK;
}

bool cli_dist_merge_eval(int64_t *confusion, int classes, double *loss_sum, double *accuracy)
{
    if (!dist.dist)
        return true;
    size_t cells = (size_t)classes * (size_t)classes;
    double *sums = malloc((cells + 1) * sizeof *sums); /* counts are exact in a double to 2^53 */
    if (!sums) {
        cli_error("out of host memory");
        return false;
    }
    for (size_t i = 0; i < cells; i++)
        sums[i] = (double)confusion[i];
    sums[cells] = *loss_sum;
    bool ok = clg_dist_sum(dist.dist, sums, cells + 1) == CLG_STATUS_OK;
    double right = 0.0, total = 0.0;
    for (size_t i = 0; ok && i < cells; i++) {
        confusion[i] = (int64_t)sums[i];
        total += sums[i];
        right += i % (size_t)(classes + 1) == 0 ? sums[i] : 0.0;
    }
    if (ok) {
        *loss_sum = sums[cells];
        *accuracy = total > 0 ? right / total : 0.0;
    }
    free(sums);
    return ok;
}

bool cli_dist_epoch_end(float *mean_loss)
{
    if (dist.last_step > 0)
        dist.step_seconds += cli_now() - dist.last_step;
    dist.last_step = 0;
    if (!dist.dist)
        return true;
    if (mean_loss) {
        double loss = (double)*mean_loss;
        if (clg_dist_sum(dist.dist, &loss, 1) != CLG_STATUS_OK)
            return false;
        *mean_loss = (float)(loss / dist.size);
    }
    return clg_dist_check(dist.dist) == CLG_STATUS_OK;
}

const char *cli_dist_note(void)
{
    if (!dist.dist)
        return "";
    clg_dist_stats stats;
    clg_dist_stats_get(dist.dist, &stats);
    double seconds = dist.step_seconds;
    if (dist.last_step > 0)
        seconds += cli_now() - dist.last_step;
    snprintf(dist.note, sizeof dist.note,
             "  %d ranks, %.0f%% of step time waiting on the allreduce", dist.size,
             seconds > 0 ? 100.0 * stats.wait_seconds / seconds : 0.0);
    return dist.note;
}

#else /* no MPI in this build */

int cli_dist_begin(int argc, char **argv, bool parallel)
{
    int ranks = launched_ranks();
    if (ranks > 1 && !parallel)
        return refuse_single_process(argc, argv, ranks);
    if (!parallel || ranks <= 1)
        return -1;
    cli_error("%s: started by mpirun with %d ranks, but this clgrad was built without MPI "
              "(meson found no MPI, or -Dmpi=disabled): each rank would train alone. Install "
              "Open MPI (openmpi-bin libopenmpi-dev) and rebuild, or run without mpirun",
              argv[1], ranks);
    return CLI_EXIT_USAGE;
}

int cli_dist_end(int code) { return code; }
bool cli_dist_leader(void) { return true; }

bool cli_dist_attach(clg_context *ctx, const clg_params *params, int64_t batch,
                     int64_t train_samples)
{
    (void)ctx, (void)params, (void)batch, (void)train_samples;
    return true;
}

void cli_dist_detach(void) {}

int64_t cli_dist_gather(const clg_dataset *data, const int64_t *indices, int64_t count, float *x,
                        int32_t *y)
{
    clg_dataset_gather(data, indices, count, x, y);
    return count;
}

void cli_dist_wait(void) {}
void cli_dist_autoencoder(lecture_autoencoder_options *options) { (void)options; }

void cli_dist_range(int64_t n, int64_t *first, int64_t *count)
{
    *first = 0;
    *count = n;
}

void cli_dist_range_blocks(int64_t n, int64_t block, int64_t *first, int64_t *count)
{
    (void)block;
    *first = 0;
    *count = n;
}

bool cli_dist_share_floats(float *values, int64_t n, int64_t block)
{
    (void)values, (void)n, (void)block;
    return true;
}

bool cli_dist_sum(double *values, size_t count)
{
    (void)values, (void)count;
    return true;
}

bool cli_dist_merge_eval(int64_t *confusion, int classes, double *loss_sum, double *accuracy)
{
    (void)confusion, (void)classes, (void)loss_sum, (void)accuracy;
    return true;
}

bool cli_dist_epoch_end(float *mean_loss)
{
    (void)mean_loss;
    return true;
}

const char *cli_dist_note(void) { return ""; }

#endif
