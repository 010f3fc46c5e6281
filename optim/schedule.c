/* optim/schedule.c: learning-rate schedules (include/clgrad/optim.h), plain
 * functions of the step with no state, so a resumed run needs nothing saved
 * to find its rate. */
#include <math.h>

#include "clgrad/optim.h"

/* The double nearest pi: cos of it is exactly -1, so the cosine ends at
 * lr_min exactly. */
#define PI 3.14159265358979323846

CLG_API clg_schedule clg_schedule_constant(float lr)
{
    return (clg_schedule){.kind = CLG_SCHEDULE_CONSTANT, .lr = lr, .lr_min = lr, .total_steps = 0};
}

CLG_API clg_schedule clg_schedule_cosine(float lr, float lr_min, int64_t total_steps)
{
    return (clg_schedule){
        .kind = CLG_SCHEDULE_COSINE, .lr = lr, .lr_min = lr_min, .total_steps = total_steps};
}

CLG_API float clg_schedule_lr(const clg_schedule *schedule, int64_t step)
{
    if (schedule->kind != CLG_SCHEDULE_COSINE)
        return schedule->lr;
    if (step >= schedule->total_steps)
        return schedule->lr_min;
    if (step < 0)
        step = 0;
    /* In double, rounded once: with lr_min 0 this is bit for bit the
     * 0.5 * lr * (1 + cos(pi * step / T)) that clgrad train used before the
     * schedule moved here (halving is exact), so its figures stand. */
    double progress = (double)step / (double)schedule->total_steps;
    double lr = schedule->lr, lr_min = schedule->lr_min;
    return (float)(lr_min + (lr - lr_min) * (0.5 * (1.0 + cos(PI * progress))));
}
