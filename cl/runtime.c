/* cl/runtime.c: opening and closing the device: pick it, create the context
 * and the one in-order queue, set up the cache folder. */
#include <clblast_c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/runtime.h"

void clrt_programs_release(clrt *rt);
void clrt_pool_release(clrt *rt);
void clrt_arena_release(clrt *rt);
void clrt_staging_release(clrt *rt);

#define MAX_LISTED 64

/* Contexts of this process that hold an OpenCL context (one per thread at
 * most, but several threads may open and close theirs at once). */
static atomic_int live_contexts;

static const char *type_name(clg_device_type t)
{
    switch (t) {
    case CLG_DEVICE_TYPE_CPU: return "cpu";
    case CLG_DEVICE_TYPE_GPU: return "gpu";
    case CLG_DEVICE_TYPE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

static char *default_cache_dir(const clg_context_options *opts)
{
    const char *off = getenv("CLGRAD_CACHE");
    if (!opts->disk_cache || (off && strcmp(off, "off") == 0))
        return NULL;
    char path[4096];
    const char *env = getenv("CLGRAD_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (opts->cache_dir)
        snprintf(path, sizeof path, "%s", opts->cache_dir);
    else if (env && env[0])
        snprintf(path, sizeof path, "%s", env);
    else if (xdg && xdg[0])
        snprintf(path, sizeof path, "%s/clgrad", xdg);
    else if (home && home[0])
        snprintf(path, sizeof path, "%s/.cache/clgrad", home);
    else
        return NULL;
    return strdup(path);
}

clg_status clrt_init(clrt *rt, const clg_context_options *opts)
{
    clg_status status = CLG_STATUS_OK;
    clg_device_desc descs[MAX_LISTED];
    size_t count = 0;
    if (clrt_devices_list(descs, MAX_LISTED, &count) != CLG_STATUS_OK || count == 0)
        return clrt_fail(rt, CLG_STATUS_NO_DEVICE,
                         "no OpenCL device found: install an OpenCL driver (on Debian, "
                         "pocl-opencl-icd for the CPU) and check with `clinfo -l`");
    if (count > MAX_LISTED)
        count = MAX_LISTED;
    const char *spec = opts->device ? opts->device : getenv("CLGRAD_DEVICE");
    int pick = clrt_devices_pick(descs, count, spec);
    if (pick < 0) {
        char list[3000] = "";
        size_t used = 0;
        for (size_t i = 0; i < count && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%d:%d %s (%s)",
                                     i ? ", " : "", descs[i].platform_index,
                                     descs[i].device_index, descs[i].name,
                                     type_name(descs[i].type));
        return clrt_fail(rt, CLG_STATUS_NO_DEVICE,
                         "no OpenCL device matches \"%s\" (CLGRAD_DEVICE takes gpu, cpu, P:D or "
                         "a name substring); devices: %s",
                         spec ? spec : "", list);
    }
    rt->desc = descs[pick];
    if (!clrt_device_handles(&rt->desc, &rt->platform, &rt->device))
        return clrt_fail(rt, CLG_STATUS_NO_DEVICE, "device %s disappeared", rt->desc.name);

    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->platform, 0};
    rt->context = clCreateContext(props, 1, &rt->device, NULL, NULL, &err);
    CLRT_CHECK(rt, err);
    atomic_fetch_add(&live_contexts, 1);
    rt->queue = clCreateCommandQueue(rt->context, rt->device, 0, &err);
    CLRT_CHECK(rt, err);

    rt->cache_dir = default_cache_dir(opts);
    const char *kdir = opts->kernel_dir ? opts->kernel_dir : getenv("CLGRAD_KERNEL_DIR");
    if (kdir && kdir[0])
        rt->kernel_dir = strdup(kdir);
    status = clrt_plan_setup(rt);
    if (status == CLG_STATUS_OK)
        status = clrt_gemm_setup(rt, opts->gemm);
cleanup:
    return status;
}

clg_status clrt_finish(clrt *rt)
{
    clg_status status = CLG_STATUS_OK;
    rt->counters.host_syncs++;
    CLRT_CHECK(rt, clFinish(rt->queue));
    clrt_staging_retire(rt);
    if (rt->profile.n_pending)
        clrt_profile_drain(rt);
cleanup:
    return status;
}

void clrt_release(clrt *rt)
{
    if (rt->queue)
        clFinish(rt->queue);
    clrt_staging_release(rt);
    clrt_profile_release(rt);
    clrt_arena_release(rt);
    clrt_pool_put(rt, rt->gemm_temp);
    rt->gemm_temp = NULL;
    clrt_pool_put(rt, rt->gemm_split);
    rt->gemm_split = NULL;
    clrt_pool_release(rt);
    clrt_programs_release(rt);
    clrt_trace_release(rt);
    if (rt->queue)
        clReleaseCommandQueue(rt->queue);
    /* CLBlast caches the programs it builds, per OpenCL context, in a
     * process-wide table that it empties only when asked or from a static
     * destructor at exit. Each cached program holds a reference to its
     * context, so without this the context below is never freed (PoCL: its
     * reference count stays at 1 + one per cached program after our
     * release). Emptying the table at exit is worse: under oclgrind,
     * clReleaseProgram then writes to a thread-local stack of oclgrind's
     * API checker that exit() has already destroyed (thread-local
     * destructors run before library destructors), and glibc aborts with
     * "corrupted double-linked list" (valgrind: invalid write in
     * clReleaseProgram, called from clblast::Cache::~Cache, to a block freed
     * by __call_tls_dtors). The C API can only empty the whole table, which
     * would make another live context rebuild its programs, so the last
     * context to close does it. CLBlast's parameter overrides (cl/blas.c's
     * forced routes) live in another table that this leaves alone. */
    if (rt->context && atomic_fetch_sub(&live_contexts, 1) == 1)
        CLBlastClearCache();
    if (rt->context)
        clReleaseContext(rt->context);
    free(rt->cache_dir);
    free(rt->kernel_dir);
    rt->queue = NULL;
    rt->context = NULL;
}
