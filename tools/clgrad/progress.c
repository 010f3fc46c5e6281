/* tools/clgrad/progress.c: the training progress line (epoch, step, loss,
 * samples/s, ETA), live on a terminal, one line per epoch in a log. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dist_cli.h"

/* A live line more often than this is unreadable, and each redraw reads the
 * loss, which waits for the device. */
#define REDRAW_SECONDS 0.1

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, int epochs, int64_t steps_per_epoch)
{
    *p = (cli_progress){.tty = isatty(STDOUT_FILENO) == 1,
                        .epochs = epochs,
                        .steps_per_epoch = steps_per_epoch,
                        .start = cli_now(),
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

void cli_progress_draw(cli_progress *p, int epoch, int64_t step, int64_t samples, float loss)
{
    double now = cli_now();
    double epoch_seconds = now - p->epoch_start;
    /* The ETA spreads the time so far, evaluations included, over the steps
     * left in all epochs. */
    int64_t total = (int64_t)p->epochs * p->steps_per_epoch;
    double per_step = p->steps_done ? (now - p->start) / (double)p->steps_done : 0.0;
    char eta[32];
    format_duration(per_step * (double)(total - p->steps_done), eta, sizeof eta);
    /* \033[K clears what a longer previous line left behind. */
    printf("\repoch %d/%d  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s%s\033[K", epoch + 1,
           p->epochs, (long long)step, (long long)p->steps_per_epoch, (double)loss,
           epoch_seconds > 0 ? (double)samples / epoch_seconds : 0.0, eta, cli_dist_note());
    fflush(stdout);
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
