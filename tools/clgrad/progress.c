/* tools/clgrad/progress.c: the training progress line (epoch, step, loss,
 * samples/s, ETA), live on a terminal, one line per epoch in a log; and the
 * bare live line of passes that are not training steps (a test pass). A live
 * line is cut to the terminal's width: one that wraps leaves a line behind
 * at every redraw, since \r returns only to the start of the last row. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dist_cli.h"

/* A live line more often than this is unreadable, and each redraw reads the
 * loss, which waits for the device. */
#define REDRAW_SECONDS 0.1
#define LINE_MAX 512

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The columns a live line may use: the terminal's, else $COLUMNS, else 80;
 * one less, since a line filling the last column makes some terminals wrap
 * at once. Asked at every redraw, so a resized window is followed. */
static int live_width(void)
{
    struct winsize ws;
    long columns = 0;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        columns = ws.ws_col;
    } else {
        const char *env = getenv("COLUMNS");
        char *end = NULL;
        columns = env ? strtol(env, &end, 10) : 0;
        if (!env || end == env || *end != '\0' || columns <= 0)
            columns = 80;
    }
    if (columns > LINE_MAX)
        columns = LINE_MAX;
    return columns > 1 ? (int)columns - 1 : 1;
}

/* Draws `fields` (ASCII) joined by two spaces over the live line. Where they
 * do not fit the width, the fields of lowest `keep` go first, and what is
 * still too long is cut. */
static void draw_fields(const char *const *fields, const int *keep, int count)
{
    int width = live_width();
    bool shown[16];
    int total = -2;
    for (int i = 0; i < count; i++) {
        shown[i] = fields[i][0] != '\0';
        total += shown[i] ? (int)strlen(fields[i]) + 2 : 0;
    }
    while (total > width) {
        int drop = -1;
        for (int i = 0; i < count; i++)
            if (shown[i] && (drop < 0 || keep[i] < keep[drop]))
                drop = i;
        if (drop < 0 || total - (int)strlen(fields[drop]) - 2 < 0)
            break; /* one field left: cut below */
        shown[drop] = false;
        total -= (int)strlen(fields[drop]) + 2;
    }
    char line[LINE_MAX + 1];
    size_t used = 0;
    for (int i = 0; i < count && used < sizeof line - 1; i++)
        if (shown[i]) {
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", used ? "  " : "",
                                     fields[i]);
            if (used > sizeof line - 1)
                used = sizeof line - 1; /* snprintf cut it */
        }
    if (used > (size_t)width)
        line[width] = '\0';
    /* \033[K clears what a longer previous line left behind. */
    printf("\r%s\033[K", line);
    fflush(stdout);
}

void cli_live_line(const char *fmt, ...)
{
    if (isatty(STDOUT_FILENO) != 1)
        return;
    char text[LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    draw_fields((const char *const[]){text}, (const int[]){0}, 1);
}

void cli_live_clear(void)
{
    if (isatty(STDOUT_FILENO) == 1) {
        fputs("\r\033[K", stdout);
        fflush(stdout);
    }
}

void cli_progress_init(cli_progress *p, int epochs, int64_t steps_per_epoch)
{
    *p = (cli_progress){.tty = isatty(STDOUT_FILENO) == 1,
                        .epochs = epochs,
                        .steps_per_epoch = steps_per_epoch,
                        .start = cli_now(),
                        .unit = "samples",
                        .held_out = "test"};
    p->last_draw = p->start;
}

void cli_progress_begin_epoch(cli_progress *p)
{
    p->epoch_start = cli_now();
}

bool cli_progress_step(cli_progress *p)
{
    p->steps_done++;
    if (!p->tty)
        return false;
    double now = cli_now();
    if (now - p->last_draw < REDRAW_SECONDS)
        return false;
    p->last_draw = now;
    return true;
}

static void format_duration(double seconds, char *buffer, size_t capacity)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buffer, capacity, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buffer, capacity, "%ld:%02ld", s / 60, s % 60);
}

void cli_progress_draw_text(cli_progress *p, int epoch, int64_t step, int64_t samples,
                            const char *measures)
{
    double now = cli_now();
    double epoch_seconds = now - p->epoch_start;
    /* The ETA spreads the time so far, evaluations included, over the steps
     * left in all epochs. */
    int64_t total = (int64_t)p->epochs * p->steps_per_epoch;
    double per_step = p->steps_done ? (now - p->start) / (double)p->steps_done : 0.0;
    char eta[32], epoch_text[48], step_text[64], rate[64], left[48];
    format_duration(per_step * (double)(total - p->steps_done), eta, sizeof eta);
    snprintf(epoch_text, sizeof epoch_text, "epoch %d/%d", epoch + 1, p->epochs);
    snprintf(step_text, sizeof step_text, "step %lld/%lld", (long long)step,
             (long long)p->steps_per_epoch);
    snprintf(rate, sizeof rate, "%.0f %s/s",
             epoch_seconds > 0 ? (double)samples / epoch_seconds : 0.0, p->unit);
    snprintf(left, sizeof left, "ETA %s", eta);
    const char *note = cli_dist_note();
    while (*note == ' ')
        note++;
    /* In a narrow terminal the rate and the MPI note go first, the epoch
     * last. */
    const char *fields[] = {epoch_text, step_text, measures, rate, left, note};
    const int keep[] = {6, 4, 5, 2, 3, 1};
    draw_fields(fields, keep, 6);
}

void cli_progress_draw(cli_progress *p, int epoch, int64_t step, int64_t samples, float loss)
{
    char measures[48];
    snprintf(measures, sizeof measures, "loss %.4f", (double)loss);
    cli_progress_draw_text(p, epoch, step, samples, measures);
}

double cli_progress_epoch_seconds(const cli_progress *p)
{
    return cli_now() - p->epoch_start;
}

void cli_progress_end_epoch(cli_progress *p, int epoch, int64_t samples, double train_seconds,
                            float mean_loss, double accuracy)
{
    if (p->tty)
        fputs("\r\033[K", stdout);
    printf("epoch %d/%d  loss %.4f  %.0f samples/s  %.1f s  %s accuracy %.2f%%%s\n", epoch + 1,
           p->epochs, (double)mean_loss, train_seconds > 0 ? (double)samples / train_seconds : 0.0,
           train_seconds, p->held_out, 100.0 * accuracy, cli_dist_note());
    fflush(stdout);
}
