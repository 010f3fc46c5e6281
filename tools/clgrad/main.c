/* tools/clgrad/main.c: the clgrad command: one table of commands, from which
 * the top-level help's list, the dispatch and the unknown-command message are
 * all made, so the three cannot disagree. What the commands share is cli.c's. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist_cli.h"

typedef struct command {
    const char *name;
    /* one line, or a few joined by \n: at most 67 columns each (the name
     * takes the first 12 of 80) */
    const char *help;
    int (*run)(int argc, char **argv);
    /* NULL: the command runs in one process; else whether this command line
     * (argv[0] the command's name) trains data-parallel under mpirun */
    bool (*distributed)(int argc, char **argv);
} command;

/* clgrad fraud: the autoencoder trains data-parallel whatever its options. */
static bool always(int argc, char **argv)
{
    (void)argc, (void)argv;
    return true;
}

static const command commands[] = {
    {"devices", "list every OpenCL platform and device; * marks the one clgrad uses", cli_devices,
     NULL},
    {"check",
     "check every op on this device against host references and finite\n"
     "differences: one line per op, exit status 1 on any failure",
     cli_check, NULL},
    {"train",
     "train a model: lenet5, mlp, logreg, rnn, lstm on Fashion-MNIST or\n"
     "your own .npz/.csv; vae, gan on Fashion-MNIST; charlstm on a text\n"
     "file; fraud (clgrad train --help lists them all)",
     cli_train, cli_train_distributed},
    {"eval", "test accuracy and confusion matrix of a saved checkpoint", cli_eval, NULL},
    {"summary", "a model's layers, output shapes and parameter counts", cli_summary, NULL},
    {"attack", "adversarial examples against a checkpoint (clgrad attack fgsm)", cli_attack, NULL},
    {"lecture", "the lecture's slides: perceptron, lda, qda, exam, approx, vanishing", cli_lecture,
     NULL},
    {"fraud",
     "fraud detection with an autoencoder (ROC, AUC); --synthesize\n"
     "writes a synthetic file in the credit-card data set's layout",
     cli_fraud, always},
    {"tune",
     "time the GEMM implementations for a model's shapes on this device\n"
     "and keep the fastest (optional: the defaults need no tuning)",
     cli_tune, NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char usage_head[] = "usage: clgrad <command> [options]\n"
                                 "\n"
                                 "Trains and evaluates neural networks on any OpenCL device.\n"
                                 "\n"
                                 "commands:\n";

static const char usage_tail[] =
    "\n"
    "`clgrad <command> --help` describes each command's options.\n"
    "\n"
    "environment:\n"
    "  CLGRAD_DEVICE     device to use: gpu, cpu, P:D (platform:device index) or a\n"
    "                    name substring; default the first GPU, else the first CPU\n"
    "  CLGRAD_CACHE_DIR  folder for compiled kernels (default $XDG_CACHE_HOME/clgrad,\n"
    "                    else ~/.cache/clgrad); CLGRAD_CACHE=off disables the cache\n"
    "  CLGRAD_KERNEL_DIR read kernel .cl files from this source tree instead of the\n"
    "                    copies built into the library\n"
    "  CLGRAD_GEMM       force one GEMM implementation (clblast, outer-6x2, ...)\n"
    "  POCL_AFFINITY     clgrad sets it to 1 unless you set it: PoCL then pins its\n"
    "                    worker threads to separate cores (without it two threads\n"
    "                    sometimes share a core and run at half speed)\n"
    "\n"
    "exit status: 0 on success, 1 on a failure, 2 on a command line error.\n";

static void print_usage(void)
{
    fputs(usage_head, stdout);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *line = commands[i].help;
        printf("  %-10s", commands[i].name);
        for (bool first = true; *line; first = false) {
            const char *end = strchr(line, '\n');
            int length = end ? (int)(end - line) : (int)strlen(line);
            printf("%s%.*s\n", first ? "" : "            ", length, line);
            line += length + (end != NULL);
        }
    }
    fputs(usage_tail, stdout);
}

/* "devices, train, ..." for the error messages. */
static void command_names(char *buffer, size_t capacity)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; i < N_COMMANDS && used < capacity; i++)
        used += (size_t)snprintf(buffer + used, capacity - used, "%s%s", used ? ", " : "",
                                 commands[i].name);
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const command *found = argc >= 2 ? find_command(argv[1]) : NULL;
    /* Under mpirun, before anything reads the environment it sets. */
    if (found) {
        bool parallel = found->distributed && found->distributed(argc - 1, argv + 1);
        int started = cli_dist_begin(argc, argv, parallel);
        if (started >= 0)
            return started;
    }
    /* Before any OpenCL call: PoCL reads it when its device starts. Without
     * it, PoCL's worker threads are left to the scheduler, which sometimes
     * puts two on one core and halves the speed. The user's setting wins. */
    setenv("POCL_AFFINITY", "1", 0);

    if (found)
        return cli_dist_end(found->run(argc - 1, argv + 1)); /* a no-op unless MPI began */
    const char *name = argc >= 2 ? argv[1] : NULL;
    if (name &&
        (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0)) {
        print_usage();
        return 0;
    }
    if (name && strcmp(name, "--version") == 0) {
        puts("clgrad " CLGRAD_VERSION);
        return 0;
    }
    char names[256];
    command_names(names, sizeof names);
    if (name)
        cli_error("unknown command \"%s\" (commands: %s; see clgrad --help)", name, names);
    else
        cli_error("no command given (commands: %s; see clgrad --help)", names);
    return CLI_EXIT_USAGE;
}
