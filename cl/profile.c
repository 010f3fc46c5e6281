/* cl/profile.c: kernel profiling (clg_context_set_profiling). While on, the
 * enqueue paths (clrt_launch, the GEMM layer, fills and copies) hand their
 * event here; after a host sync, when the in-order queue has run everything
 * before it, the device times are read, summed per kernel name and the
 * events released. While off, the enqueue paths pass no event at all.
 *
 * Drivers differ in what their events say, and the counts must not depend on
 * it: a command is counted once its event is released, whatever its times.
 * Times are summed only where they mean something: a timer of coarse
 * resolution gives short commands 0 s, and a driver whose timer has a
 * resolution of 0 ns measures nothing (Mesa 22's rusticl answers 0, 1, 2 and
 * 3 ns for every command's queued, submit, start and end), so its commands
 * are counted with 0 s rather than with made-up nanoseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/runtime.h"

/* Events held before clrt_profile_keep waits for the device itself, so that a
 * run reading nothing for a long while holds bounded memory. */
#define PENDING_MAX 4096

static void clear_totals(clrt_profile *p)
{
    p->n_totals = 0;
}

clg_status clrt_profile_set(clrt *rt, bool on)
{
    clg_status status = CLG_STATUS_OK;
    rt->counters.host_syncs++;
    CLRT_CHECK(rt, clFinish(rt->queue));
    clrt_staging_retire(rt);
    clrt_profile_drain(rt);
    if (on != rt->profile.on) {
        cl_int err = CL_SUCCESS;
        cl_command_queue queue =
            clCreateCommandQueue(rt->context, rt->device, on ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
        CLRT_CHECK(rt, err);
        /* Everything on the old queue has finished (the staging events
         * included), so nothing still refers to it. */
        clReleaseCommandQueue(rt->queue);
        rt->queue = queue;
        rt->profile.on = on;
        size_t resolution = 0;
        rt->profile.untimed = clGetDeviceInfo(rt->device, CL_DEVICE_PROFILING_TIMER_RESOLUTION,
                                              sizeof resolution, &resolution, NULL) != CL_SUCCESS ||
                              resolution == 0;
    }
    if (on)
        clear_totals(&rt->profile);
cleanup:
    return status;
}

static clg_profile_entry *total_for(clrt_profile *p, const char *name)
{
    for (int i = 0; i < p->n_totals; i++)
        if (strcmp(p->totals[i].name, name) == 0)
            return &p->totals[i];
    if (p->n_totals == p->totals_capacity) {
        int capacity = p->totals_capacity ? 2 * p->totals_capacity : 64;
        clg_profile_entry *grown = realloc(p->totals, (size_t)capacity * sizeof *grown);
        if (!grown)
            return NULL;
        p->totals = grown;
        p->totals_capacity = capacity;
    }
    clg_profile_entry *t = &p->totals[p->n_totals++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

/* A command's device time in seconds: from its own start, or from the end of
 * the marker enqueued before it (a CLBlast span), to its end; 0 when the
 * driver gives no usable times. A span whose marker ends after the command
 * (a driver stamping markers on another clock) falls back to the command's
 * own start. */
static double device_seconds(const clrt_profile *p, const clrt_profile_pending *e)
{
    if (p->untimed)
        return 0.0;
    cl_ulong start = 0, end = 0, marker_end = 0;
    if (clGetEventProfilingInfo(e->event, CL_PROFILING_COMMAND_START, sizeof start, &start,
                                NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(e->event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
            CL_SUCCESS)
        return 0.0;
    if (e->begin &&
        clGetEventProfilingInfo(e->begin, CL_PROFILING_COMMAND_END, sizeof marker_end,
                                &marker_end, NULL) == CL_SUCCESS &&
        marker_end <= end)
        start = marker_end;
    return end > start ? 1e-9 * (double)(end - start) : 0.0;
}

/* Called only after a host sync that the in-order queue has run every kept
 * command before: clFinish, a blocking read, or a wait for the newest kept
 * event. */
void clrt_profile_drain(clrt *rt)
{
    clrt_profile *p = &rt->profile;
    for (int i = 0; i < p->n_pending; i++) {
        clrt_profile_pending *e = &p->pending[i];
        cl_int state = CL_QUEUED;
        clGetEventInfo(e->event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
        if (state > CL_COMPLETE) {
            /* Done, since the queue has run past it, but not yet marked so:
             * rusticl, after a wait for the newest of 4096 kernels, still
             * reports most of the earlier ones as submitted. Their times
             * can be read once the driver says complete, which this wait
             * brings about without waiting for any device work. */
            clWaitForEvents(1, &e->event);
            clGetEventInfo(e->event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state,
                           NULL);
        }
        char name[256] = "?";
        if (e->label)
            snprintf(name, sizeof name, "%s", e->label);
        else
            clGetKernelInfo(e->kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        clg_profile_entry *t = total_for(p, name);
        if (t) {
            t->count++;
            if (state == CL_COMPLETE)
                t->seconds += device_seconds(p, e);
        }
        if (e->begin)
            clReleaseEvent(e->begin);
        clReleaseEvent(e->event);
    }
    p->n_pending = 0;
}

cl_event clrt_profile_marker(clrt *rt)
{
    cl_event marker = NULL;
    if (rt->profile.on && clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &marker) != CL_SUCCESS)
        marker = NULL; /* the span then starts at the event's own start */
    return marker;
}

static void keep(clrt *rt, cl_event begin, cl_event event, cl_kernel kernel, const char *label);

void clrt_profile_keep(clrt *rt, cl_event event, cl_kernel kernel, const char *label)
{
    keep(rt, NULL, event, kernel, label);
}

void clrt_profile_keep_span(clrt *rt, cl_event begin, cl_event event, const char *label)
{
    keep(rt, begin, event, NULL, label);
}

static void keep(clrt *rt, cl_event begin, cl_event event, cl_kernel kernel, const char *label)
{
    clrt_profile *p = &rt->profile;
    if (p->n_pending == PENDING_MAX) {
        /* The queue is in order: when the newest kept command is done, so
         * are the others. */
        rt->counters.host_syncs++;
        if (clWaitForEvents(1, &p->pending[p->n_pending - 1].event) == CL_SUCCESS)
            clrt_profile_drain(rt);
    }
    if (p->n_pending == p->pending_capacity && p->pending_capacity < PENDING_MAX) {
        int capacity = p->pending_capacity ? 2 * p->pending_capacity : 256;
        clrt_profile_pending *grown = realloc(p->pending, (size_t)capacity * sizeof *grown);
        if (grown) {
            p->pending = grown;
            p->pending_capacity = capacity;
        }
    }
    if (p->n_pending == p->pending_capacity) {
        /* out of host memory, or the wait above failed: the command goes
         * uncounted */
        if (begin)
            clReleaseEvent(begin);
        clReleaseEvent(event);
        return;
    }
    p->pending[p->n_pending++] = (clrt_profile_pending){begin, event, kernel, label};
}

/* Most device time first; among equal times (all of them 0 s on a driver
 * that does not time), most commands first, then by name, so that the order
 * is the same on every run. */
static int by_time(const void *a, const void *b)
{
    const clg_profile_entry *ea = a, *eb = b;
    if (ea->seconds != eb->seconds)
        return ea->seconds < eb->seconds ? 1 : -1;
    if (ea->count != eb->count)
        return ea->count < eb->count ? 1 : -1;
    return strcmp(ea->name, eb->name);
}

size_t clrt_profile_get(clrt *rt, clg_profile_entry *out, size_t capacity)
{
    clrt_profile *p = &rt->profile;
    if (clrt_finish(rt) == CLG_STATUS_OK)
        clrt_profile_drain(rt);
    size_t n = (size_t)p->n_totals;
    if (n == 0)
        return 0;
    qsort(p->totals, n, sizeof *p->totals, by_time);
    if (out && capacity > 0)
        memcpy(out, p->totals, (n < capacity ? n : capacity) * sizeof *out);
    return n;
}

void clrt_profile_release(clrt *rt)
{
    clrt_profile *p = &rt->profile;
    for (int i = 0; i < p->n_pending; i++) {
        if (p->pending[i].begin)
            clReleaseEvent(p->pending[i].begin);
        clReleaseEvent(p->pending[i].event);
    }
    free(p->pending);
    free(p->totals);
    memset(p, 0, sizeof *p);
}
