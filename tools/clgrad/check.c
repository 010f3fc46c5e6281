/* tools/clgrad/check.c: `clgrad check`, which answers "does every op compute
 * the right thing on this device?": the case table of check/cases.c (every
 * differentiable op family, forward against a host reference, backward
 * against float64 finite differences, dropout's mask statistics, the
 * optimizers' updates) run on the device CLGRAD_DEVICE picks under the launch
 * plan in force, matmul once more through each GEMM implementation the
 * dispatcher would use there. One line per op, then a count; exit 0 only when
 * nothing failed. The references are compiled into this tool, so an
 * installed clgrad checks itself without a source tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "cli.h"

#define MAX_GEMMS 16

static const char check_usage[] =
    "usage: clgrad check [--op NAME] [--verbose]\n"
    "\n"
    "Checks every differentiable op on the device clgrad uses (CLGRAD_DEVICE; see\n"
    "clgrad devices) under the launch plan in force (CLGRAD_LAUNCH=cpu|gpu): the\n"
    "forward pass against a naive host reference on seeded random inputs (odd\n"
    "sizes, broadcasting, transposed views), the backward pass against central\n"
    "finite differences of that reference in float64; dropout's keep rate and\n"
    "scale; one step of each optimizer against PyTorch's formula; matmul also\n"
    "through each GEMM implementation the dispatcher uses on this device. Prints\n"
    "`ok    <op>  max rel err <e>` or `FAIL  <op>  <what differed>` per op, then\n"
    "`N passed, M failed`. Exit status 0 only when nothing failed.\n"
    "\n"
    "options:\n"
    "  --op NAME   only this op (matmul also selects matmul[<implementation>]);\n"
    "              a name that matches nothing lists the names\n"
    "  --verbose   the device, the launch plan, the GEMM implementations, and per\n"
    "              op its time and, when it passed, what was compared\n"
    "  -h, --help  this help\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --op NAME selects `name` itself, and "matmul" selects "matmul[clblast]". */
static bool selected(const char *only, const char *name)
{
    if (!only)
        return true;
    size_t n = strlen(only);
    return strcmp(only, name) == 0 || (strncmp(only, name, n) == 0 && name[n] == '[');
}

typedef struct tally {
    int passed, failed, width;
    bool verbose;
} tally;

static void report(tally *t, const char *name, const chk_result *r, double seconds)
{
    if (r->passed) {
        t->passed++;
        printf("ok    %-*s  max rel err %.2g", t->width, name, r->max_rel_err);
        if (t->verbose)
            printf("  (%.0f ms%s%s)", 1e3 * seconds, r->detail[0] ? "; " : "", r->detail);
    } else {
        t->failed++;
        printf("FAIL  %-*s  %s", t->width, name, r->detail);
        if (t->verbose)
            printf("  (%.0f ms)", 1e3 * seconds);
    }
    putchar('\n');
    fflush(stdout);
}

int cli_check(int argc, char **argv)
{
    static const char *const valued[] = {"--op", NULL};
    static const char *const flags[] = {"--verbose", NULL};
    const char *only = NULL;
    tally t = {0};
    cli_args args;
    cli_args_init(&args, "check", argc, argv, valued, flags);
    int exit_code;
    while (cli_args_option(&args, check_usage, NULL, &exit_code)) {
        if (strcmp(args.name, "--op") == 0)
            only = args.value;
        else
            t.verbose = true;
    }
    if (exit_code >= 0)
        return exit_code;

    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        int code = cli_context_error(ctx);
        clg_context_destroy(ctx);
        return code;
    }
    const char *gemms[MAX_GEMMS];
    size_t n_gemms = chk_gemm_implementations(ctx, gemms, MAX_GEMMS);
    if (n_gemms > MAX_GEMMS)
        n_gemms = MAX_GEMMS;

    /* the names, for --op and the column width */
    static const char *const gemm_cases[] = {"matmul", "matmul_batched", "matmul_long_k"};
    enum { N_GEMM_CASES = sizeof gemm_cases / sizeof gemm_cases[0] };
    char gemm_names[MAX_GEMMS][N_GEMM_CASES][64];
    bool any = false;
    for (size_t i = 0; i < chk_case_count(); i++) {
        any = any || selected(only, chk_case_name(i));
        int w = (int)strlen(chk_case_name(i));
        t.width = w > t.width ? w : t.width;
    }
    for (size_t g = 0; g < n_gemms; g++)
        for (int c = 0; c < N_GEMM_CASES; c++) {
            snprintf(gemm_names[g][c], sizeof gemm_names[g][c], "%s[%s]", gemm_cases[c], gemms[g]);
            any = any || selected(only, gemm_names[g][c]);
            int w = (int)strlen(gemm_names[g][c]);
            t.width = w > t.width ? w : t.width;
        }
    if (!any) {
        cli_error("check: --op %s names no op; the ops are:", only);
        for (size_t i = 0; i < chk_case_count(); i++)
            fprintf(stderr, "  %s\n", chk_case_name(i));
        for (size_t g = 0; g < n_gemms; g++)
            for (int c = 0; c < N_GEMM_CASES; c++)
                fprintf(stderr, "  %s\n", gemm_names[g][c]);
        clg_context_destroy(ctx);
        return CLI_EXIT_USAGE;
    }

    double start = now();
    if (t.verbose) {
        printf("device: %s, launch plan %s\nGEMM implementations the dispatcher uses here:",
               clg_context_device_name(ctx), clg_context_launch_plan(ctx));
        for (size_t g = 0; g < n_gemms; g++)
            printf(" %s", gemms[g]);
        printf("\n");
    }
    for (size_t i = 0; i < chk_case_count(); i++) {
        if (!selected(only, chk_case_name(i)))
            continue;
        chk_result r;
        double t0 = now();
        chk_case_run(ctx, i, &r);
        report(&t, chk_case_name(i), &r, now() - t0);
    }
    for (size_t g = 0; g < n_gemms; g++)
        for (int c = 0; c < N_GEMM_CASES; c++) {
            if (!selected(only, gemm_names[g][c]))
                continue;
            chk_result r;
            double t0 = now();
            chk_gemm_case_run(NULL, gemms[g], gemm_cases[c], &r);
            report(&t, gemm_names[g][c], &r, now() - t0);
        }
    clg_context_destroy(ctx);
    printf("%d passed, %d failed", t.passed, t.failed);
    if (t.verbose)
        printf(" in %.1f s", now() - start);
    printf("\n");
    return t.failed ? CLI_EXIT_FAILURE : 0;
}
