/* tools/clgrad/cli.c: what the clgrad commands share (cli.h): one-line error
 * reporting, the checks of an output path and of loaded weights, the option
 * walker, the number parsers and the loss accumulator. It calls no command;
 * main.c's table calls the commands, and they call this. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fputs("clgrad: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_context_error(const clg_context *ctx)
{
    const char *message = ctx ? clg_context_error(ctx) : "";
    cli_error("%s", message[0] ? message : "out of host memory");
    return CLI_EXIT_FAILURE;
}

bool cli_check_output(const char *option, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        cli_error("%s: %s is %s, not a regular file; refusing to replace it", option, path,
                  S_ISDIR(st.st_mode)   ? "a folder"
                  : S_ISCHR(st.st_mode) ? "a character device"
                  : S_ISBLK(st.st_mode) ? "a block device"
                  : S_ISFIFO(st.st_mode) ? "a pipe"
                                         : "a special file");
        return false;
    }
    char folder[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else if (slash == path)
        snprintf(folder, sizeof folder, "/");
    else
        snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s: cannot write %s: folder %s %s", option, path, folder,
                  errno == ENOENT ? "does not exist" : "is not a folder");
        return false;
    }
    if (access(folder, W_OK) != 0) {
        cli_error("%s: cannot write %s: folder %s: %s", option, path, folder, strerror(errno));
        return false;
    }
    return true;
}

void cli_warn_nonfinite(const char *path, const clg_model *model)
{
    const char *tensor = NULL;
    int64_t bad = clg_model_nonfinite(model, &tensor);
    if (bad > 0) {
        fflush(stdout);
        fprintf(stderr,
                "clgrad: warning: %s holds %lld NaN or infinite weights (first in \"%s\"): "
                "the run that saved it diverged, and its outputs will be meaningless\n",
                path, (long long)bad, tensor);
    }
}

/* ---- options ---- */

void cli_args_init(cli_args *args, const char *command, int argc, char **argv,
                   const char *const *valued, const char *const *flags)
{
    *args = (cli_args){.argc = argc,
                       .argv = argv,
                       .next = 1,
                       .command = command,
                       .valued = valued,
                       .flags = flags};
}

static bool listed(const char *const *names, const char *name)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

cli_arg_kind cli_args_next(cli_args *args)
{
    if (args->next >= args->argc)
        return CLI_ARG_END;
    const char *arg = args->argv[args->next++];
    args->name = NULL;
    args->value = NULL;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return CLI_ARG_HELP;
    if (arg[0] != '-' || strcmp(arg, "-") == 0) {
        args->value = arg;
        return CLI_ARG_POSITIONAL;
    }
    const char *equals = strchr(arg, '=');
    size_t length = equals ? (size_t)(equals - arg) : strlen(arg);
    if (length >= sizeof args->name_buffer)
        length = sizeof args->name_buffer - 1;
    memcpy(args->name_buffer, arg, length);
    args->name_buffer[length] = '\0';
    args->name = args->name_buffer;

    if (listed(args->flags, args->name)) {
        if (equals) {
            cli_error("%s: option %s takes no value", args->command, args->name);
            return CLI_ARG_ERROR;
        }
        return CLI_ARG_OPTION;
    }
    if (!listed(args->valued, args->name)) {
        cli_error("%s: unknown option %s (see clgrad %s --help)", args->command, args->name,
                  args->command);
        return CLI_ARG_ERROR;
    }
    if (equals) {
        args->value = equals + 1;
    } else if (args->next < args->argc) {
        args->value = args->argv[args->next++];
    } else {
        cli_error("%s: option %s needs a value", args->command, args->name);
        return CLI_ARG_ERROR;
    }
    return CLI_ARG_OPTION;
}

int cli_args_unexpected(const cli_args *args)
{
    cli_error("%s: unexpected argument \"%s\" (see clgrad %s --help)", args->command, args->value,
              args->command);
    return CLI_EXIT_USAGE;
}

bool cli_args_option(cli_args *args, const char *usage, const char **positional, int *exit_code)
{
    cli_arg_kind kind;
    while ((kind = cli_args_next(args)) == CLI_ARG_POSITIONAL && positional && !*positional)
        *positional = args->value;
    switch (kind) {
    case CLI_ARG_OPTION: return true;
    case CLI_ARG_END: *exit_code = -1; break;
    case CLI_ARG_HELP:
        fputs(usage, stdout);
        *exit_code = 0;
        break;
    case CLI_ARG_POSITIONAL: *exit_code = cli_args_unexpected(args); break;
    case CLI_ARG_ERROR: *exit_code = CLI_EXIT_USAGE; break;
    }
    return false;
}

/* Every number parser reads the whole text and nothing else: no leading
 * space or '+' (strtoll and strtod would skip them, and strtoull would wrap
 * " -1"), no "nan", "inf" or hex float, no trailing junk. */
static bool plain_number(const char *text, bool allow_minus)
{
    const char *c = text + (allow_minus && text[0] == '-');
    return (*c >= '0' && *c <= '9') || (*c == '.' && c[1] >= '0' && c[1] <= '9');
}

bool cli_parse_int(const char *option, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long value = plain_number(text, true) ? strtoll(text, &end, 10) : 0;
    if (!plain_number(text, true) || *end != '\0' || errno == ERANGE || strchr(text, '.')) {
        cli_error("%s: \"%s\" is not a whole number", option, text);
        return false;
    }
    if (value < min || value > max) {
        cli_error("%s: %s is out of range (%lld to %lld)", option, text, (long long)min,
                  (long long)max);
        return false;
    }
    *out = (int64_t)value;
    return true;
}

bool cli_parse_u64(const char *option, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    bool digits = text[0] >= '0' && text[0] <= '9';
    unsigned long long value = digits ? strtoull(text, &end, 10) : 0;
    if (!digits || *end != '\0' || errno == ERANGE) {
        cli_error("%s: \"%s\" is not a non-negative whole number", option, text);
        return false;
    }
    *out = (uint64_t)value;
    return true;
}

bool cli_parse_real(const char *option, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = plain_number(text, true) ? strtod(text, &end) : 0.0;
    bool underflow = errno == ERANGE && fabs(value) < 1.0;
    if (!plain_number(text, true) || *end != '\0' || (errno == ERANGE && !underflow) ||
        !isfinite(value) || strchr(text, 'x') || strchr(text, 'X')) {
        cli_error("%s: \"%s\" is not a number", option, text);
        return false;
    }
    if (underflow || value < min || value > max) {
        cli_error("%s: %s is out of range (%g to %g)", option, text, min, max);
        return false;
    }
    *out = value;
    return true;
}

bool cli_parse_float(const char *option, const char *text, double min, double max, float *out)
{
    double value = 0.0;
    if (!cli_parse_real(option, text, min, max, &value))
        return false;
    /* Kept as a float: a value that would round to 0 or lose its precision
     * there (below FLT_MIN: 1e-50 once became 0, silently the default rate)
     * is refused, as is one that would become infinite. */
    if (value != 0.0 && fabs(value) < FLT_MIN) {
        cli_error("%s: %s is too small for a 32-bit float (the smallest is %g)", option, text,
                  (double)FLT_MIN);
        return false;
    }
    if (fabs(value) > FLT_MAX) {
        cli_error("%s: %s is too large for a 32-bit float (the largest is %g)", option, text,
                  (double)FLT_MAX);
        return false;
    }
    *out = (float)value;
    return true;
}

bool cli_parse_positive_float(const char *option, const char *text, float *out)
{
    double value = 0.0;
    if (!cli_parse_real(option, text, -HUGE_VAL, HUGE_VAL, &value))
        return false;
    if (!(value > 0.0)) {
        cli_error("%s: must be greater than 0, got %s", option, text);
        return false;
    }
    return cli_parse_float(option, text, 0.0, HUGE_VAL, out);
}

bool cli_parse_sizes(const char *option, const char *text, int64_t *sizes, int capacity, int *count)
{
    *count = 0;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t length = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (length == 0 || length >= sizeof item || *count == capacity) {
            cli_error("%s: \"%s\" is not a comma-separated list of at most %d sizes", option, text,
                      capacity);
            return false;
        }
        memcpy(item, p, length);
        item[length] = '\0';
        if (!cli_parse_int(option, item, 1, 1 << 16, &sizes[*count]))
            return false;
        ++*count;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

/* *total += loss on the device, outside the tape, so that a mean loss costs
 * no host sync until someone reads it. *total is created (zeroed) on first
 * use. */
bool cli_accumulate(clg_context *ctx, clg_tensor **total, clg_tensor *loss)
{
    if (!*total) {
        int rank = clg_tensor_rank(loss);
        int64_t shape[CLG_MAX_RANK];
        for (int i = 0; i < rank; i++)
            shape[i] = clg_tensor_dim(loss, i);
        *total = clg_tensor_create(ctx, CLG_DTYPE_F32, rank, shape);
        if (!*total || clg_tensor_fill(*total, 0.0f) != CLG_STATUS_OK)
            return false;
    }
    bool grad_was = clg_grad_set_enabled(ctx, false);
    clg_tensor *sum = clg_add(*total, loss);
    bool ok = sum && clg_tensor_copy(*total, sum) == CLG_STATUS_OK;
    clg_grad_set_enabled(ctx, grad_was);
    return ok;
}
