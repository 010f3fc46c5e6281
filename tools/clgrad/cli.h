/* tools/clgrad/cli.h: what the clgrad commands share: error reporting, option
 * parsing, number parsing and the test-set evaluation. The command line is the
 * only part of clgrad that prints; the library reports through the context.
 * Internal prefix: cli_. */
#ifndef CLGRAD_TOOLS_CLI_H
#define CLGRAD_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "clgrad/clgrad.h"

/* Exit codes: 1 for a failure at run time (device, file, training), 2 for a
 * command line that could not be understood. */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* Prints "clgrad: <message>" on stderr as one line (stdout is flushed first so
 * the two streams stay in order in a shared log). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the context's error as above and returns CLI_EXIT_FAILURE. */
int cli_context_error(const clg_context *ctx);

/* Before a run whose result goes to `path` (--save): its folder exists and
 * is writable, and `path` is a regular file if it exists (not /dev/full, a
 * folder or a pipe); else prints why, naming `option`, and returns false. So
 * a bad destination fails at once, not after the training it would lose. */
bool cli_check_output(const char *option, const char *path);
/* After loading a model from a checkpoint: a warning on stderr when its
 * weights hold NaN or infinite values (the library loads such a file; what
 * a diverged run saves). */
void cli_warn_nonfinite(const char *path, const clg_model *model);

/* ---- options ---- */

/* Walks a command's arguments. Options are "--name value" or "--name=value";
 * anything not starting with "-" is a positional argument. */
typedef struct cli_args {
    int argc;
    char **argv;
    int next;
    const char *command;       /* for messages: "train" */
    const char *const *valued; /* options taking a value, NULL-terminated */
    const char *const *flags;  /* options taking none, NULL-terminated (may be NULL) */
    const char *name;          /* the current option, "--epochs"; NULL for a positional */
    const char *value;         /* its value, or the positional argument */
    char name_buffer[64];
} cli_args;

typedef enum cli_arg_kind {
    CLI_ARG_END = 0,
    CLI_ARG_OPTION,     /* name and value (NULL for a flag) are set */
    CLI_ARG_POSITIONAL, /* value is set */
    CLI_ARG_HELP,       /* -h or --help */
    CLI_ARG_ERROR       /* already reported */
} cli_arg_kind;

void cli_args_init(cli_args *args, const char *command, int argc, char **argv,
                   const char *const *valued, const char *const *flags);
cli_arg_kind cli_args_next(cli_args *args);
/* The walk every command writes around cli_args_next, once: returns true at
 * each option, with name and value set. Returns false when the walk stops,
 * with *exit_code -1 at the end of the arguments (go on), 0 after printing
 * `usage` for -h or --help, CLI_EXIT_USAGE after reporting a bad option or
 * an unexpected positional argument. A positional argument is taken into
 * *positional when `positional` is given and *positional is still NULL (the
 * one the command accepts); any other is unexpected. */
bool cli_args_option(cli_args *args, const char *usage, const char **positional, int *exit_code);
/* Reports the current argument as unexpected and returns CLI_EXIT_USAGE. */
int cli_args_unexpected(const cli_args *args);

/* Number parsers for option values; each reports "option: reason" and returns
 * false when the text is not a number in [min, max]. The whole text must be
 * the number: no space, '+', "nan", "inf" or hex. */
bool cli_parse_int(const char *option, const char *text, int64_t min, int64_t max, int64_t *out);
bool cli_parse_u64(const char *option, const char *text, uint64_t *out);
bool cli_parse_real(const char *option, const char *text, double min, double max, double *out);
/* As cli_parse_real, and the value must survive as a float: nothing that
 * would round to 0 (1e-50), become subnormal or overflow. */
bool cli_parse_float(const char *option, const char *text, double min, double max, float *out);
/* A float > 0 (learning rates, noise levels, temperatures). */
bool cli_parse_positive_float(const char *option, const char *text, float *out);
/* "256,128" -> {256, 128}: at most `capacity` sizes in [1, 65536]. */
bool cli_parse_sizes(const char *option, const char *text, int64_t *sizes, int capacity,
                     int *count);

/* *total += loss on the device, outside the tape, so that a mean loss costs
 * no host sync until someone reads it; *total (persistent, destroy it) is
 * created zeroed on first use. false with the context error set. */
bool cli_accumulate(clg_context *ctx, clg_tensor **total, clg_tensor *loss);

/* ---- the Fashion-MNIST classifiers (clgrad train, clgrad tune) ---- */

/* Whether `model` names one ("lenet5", "mlp", "logreg", "rnn", "lstm", "gru")
 * that takes n_hidden hidden sizes (0: none given; the mlp takes a list, the
 * rnn, lstm and gru one size); else prints a usage error naming `command` and
 * returns false. */
bool cli_classifier_check(const char *command, const char *model, int n_hidden);
/* The models `clgrad train` takes (train.c's table), joined by `separator`;
 * classifiers_only: only those of its own loop, which tune takes too. */
void cli_train_model_names(char *buffer, size_t capacity, const char *separator,
                           bool classifiers_only);
/* Whether `clgrad train` with these arguments (argv[0] "train", argv[1] the
 * model) trains data-parallel under mpirun: the classifiers (also when the
 * model comes from --resume's file) and fraud; vae, gan and charlstm run
 * their own loops in one process. */
bool cli_train_distributed(int argc, char **argv);
/* The checked `model` for (features, classes), with the hidden sizes given
 * (n_hidden 0: the defaults, 256,128 for the mlp and 128 for the rnn and
 * lstm) and lenet5's activation (NULL: relu). */
clg_model *cli_classifier_create(clg_context *ctx, const char *model, const char *activation,
                                 const int64_t *hidden, int n_hidden, int64_t features,
                                 int classes, uint64_t seed);

/* ---- evaluation ---- */

/* A label's name for captions: Fashion-MNIST's ("Ankle boot") when the
 * model has its ten classes, else "" (the number says it all). Safe for any
 * label and any count of classes. */
const char *cli_class_name(int label, int classes);

/* Classifies every sample of `test` with grad mode off and fills the
 * classes x classes confusion matrix (rows: truth, columns: predicted);
 * returns false with the context error set on failure. */
/* Your own data (eval.c): whether --data names a file rather than a
 * Fashion-MNIST folder (by its .npz or .csv name), and that file read as a
 * dataset (NULL with the context's error, or after printing why). */
bool cli_data_file(const char *path);
bool cli_ends_with(const char *text, const char *suffix);
clg_dataset *cli_load_data_file(clg_context *ctx, const char *option, const char *path,
                                const char *label);
bool cli_evaluate(clg_context *ctx, clg_model *model, const clg_dataset *test, int64_t batch,
                  int64_t *confusion, double *accuracy);

/* ---- progress ---- */

/* The training progress display: on a terminal, one live line redrawn with
 * \r at most ten times a second; otherwise one plain line per epoch, so logs
 * stay readable. Only a redraw reads the loss, since that read is a host
 * sync. */
typedef struct cli_progress {
    bool tty;
    int epochs;
    int64_t steps_per_epoch;
    double start;       /* when training began */
    double epoch_start; /* when the current epoch began */
    double last_draw;
    int64_t steps_done; /* over all epochs */
    const char *unit;   /* what the rate counts: "samples" (set by init), "chars" */
    const char *held_out; /* what the accuracy is measured on: "test" (the default), "validation" */
} cli_progress;

void cli_progress_init(cli_progress *p, int epochs, int64_t steps_per_epoch);
void cli_progress_begin_epoch(cli_progress *p);
/* Counts a step; true when the live line is due for a redraw. */
bool cli_progress_step(cli_progress *p);
/* step and samples count from the start of the epoch; epoch from 0. */
void cli_progress_draw(cli_progress *p, int epoch, int64_t step, int64_t samples, float loss);
/* The same with the measures given as text ("D 1.3412  G 0.7021") in place
 * of the loss. */
void cli_progress_draw_text(cli_progress *p, int epoch, int64_t step, int64_t samples,
                            const char *measures);
/* Seconds the epoch's training took (evaluation excluded). */
double cli_progress_epoch_seconds(const cli_progress *p);
/* Replaces the live line with the epoch's summary. */
void cli_progress_end_epoch(cli_progress *p, int epoch, int64_t samples, double train_seconds,
                            float mean_loss, double accuracy);

/* On a terminal, a live line (redrawn with \r, cut to the terminal's width)
 * for a pass that is not a training step, such as a test pass; cli_live_clear
 * (or cli_progress_end_epoch) wipes it before the next line is printed.
 * Nothing otherwise, so logs get no carriage returns. */
void cli_live_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_live_clear(void);

/* ---- checkpoints of vae, gan and charlstm (saved.c) ---- */

/* The checks of --save, --load and --epochs the three commands share, made
 * before any work: -1 to go on, else the exit code after printing why.
 * `with_load` says what --load with --epochs 0 does ("sample", "draw"). */
int cli_saved_check_options(const char *save, const char *load, int64_t epochs,
                            const char *with_load);
/* Writes `params` to `path` with the metadata "model" = kind, "arch" =
 * arch and n more keys (at most 6), and says so on stdout; false after
 * printing why. */
bool cli_saved_write(clg_context *ctx, const clg_params *params, const char *path, const char *kind,
                     const char *arch, const char *const *keys, const char *const *values,
                     size_t n);
/* Reads `path` for --load of `kind`; NULL after printing why, also when its
 * "model" is another. Destroy it. */
clg_safetensors *cli_saved_open(clg_context *ctx, const char *path, const char *kind);
/* Its "arch": `count` sizes joined by dashes, after a word and a dash when
 * `word` is not NULL ("dcgan-64-16"); false after printing why. */
bool cli_saved_arch(const clg_safetensors *st, const char *path, char *word, size_t capacity,
                    int64_t *sizes, int count);
/* clg_checkpoint_load, printing the context's error on failure. */
bool cli_saved_load(clg_context *ctx, const clg_params *params, const char *path);

/* ---- commands ---- */

int cli_devices(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_attack(int argc, char **argv);
/* Added by each command's file (fraud.c, lecture.c, generative.c, charlstm.c). */
int cli_lecture(int argc, char **argv);
int cli_fraud(int argc, char **argv);
int cli_train_charlstm(int argc, char **argv);
int cli_train_vae(int argc, char **argv);
int cli_train_gan(int argc, char **argv);

/* "s" unless n is 1, for counts in messages: "%lld epoch%s", n, cli_plural(n). */
static inline const char *cli_plural(int64_t n)
{
    return n == 1 ? "" : "s";
}

/* Seconds on a monotonic clock. */
double cli_now(void);

#endif
