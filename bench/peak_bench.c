/* bench/peak_bench.c: peak-bench, the device's float multiply-add rate as an
 * OpenCL kernel reaches it: the denominator of bench/table.py's "share of the
 * FMA peak", measured on the device CLGRAD_DEVICE picks instead of assumed
 * from a data sheet (a CPU's clock under load, a VM's share of a core and the
 * driver's code all move it).
 *
 * The kernel runs CHAINS independent chains x = x a + b per work-item, each
 * on a vector of the device's preferred float width: enough independent
 * multiply-adds to hide their latency on every FMA unit (AVX-512: 2 units x
 * 4 cycles = 8 in flight), with no memory traffic inside the loop. a and b
 * are kernel arguments, so the compiler can neither fold the chains nor drop
 * them (their sum is stored); x converges to b / (1 - a) = 1, far from
 * denormals and infinities. FLOPs: 2 per lane per multiply-add.
 *
 * The launch: the device's compute units x 256 work-items, the work-group
 * size left to the driver (it knows its own scheduling best; the figure is
 * the best of the sizes tried below and of ROUNDS runs). Prints
 * "result peak gflops=..." for bench/run.sh. Not part of meson test.
 *
 * It reads the context's OpenCL handles through the private headers
 * (engine/engine.h), as clgrad-bench does: the public API hides them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgrad/clgrad.h"
#include "engine/engine.h"

#define CHAINS 12
#define ROUNDS 5

static const char *source =
    "#pragma OPENCL FP_CONTRACT ON\n"
    "#define FMA12(a, b) \\\n"
    "    x0 = x0 * a + b; x1 = x1 * a + b; x2 = x2 * a + b; x3 = x3 * a + b; \\\n"
    "    x4 = x4 * a + b; x5 = x5 * a + b; x6 = x6 * a + b; x7 = x7 * a + b; \\\n"
    "    x8 = x8 * a + b; x9 = x9 * a + b; x10 = x10 * a + b; x11 = x11 * a + b\n"
    "__kernel void fma_peak(__global float *out, int iters, float a, float b)\n"
    "{\n"
    "    floatv x0 = (floatv)((float)get_global_id(0) * 1e-6f);\n"
    "    floatv x1 = x0 + 0.01f, x2 = x0 + 0.02f, x3 = x0 + 0.03f, x4 = x0 + 0.04f;\n"
    "    floatv x5 = x0 + 0.05f, x6 = x0 + 0.06f, x7 = x0 + 0.07f, x8 = x0 + 0.08f;\n"
    "    floatv x9 = x0 + 0.09f, x10 = x0 + 0.10f, x11 = x0 + 0.11f;\n"
    "    for (int i = 0; i < iters; i++) {\n"
    "        FMA12(a, b);\n"
    "    }\n"
    "    floatv s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));\n"
    "    s += (x8 + x9) + (x10 + x11);\n"
    "    out[get_global_id(0)] = LANE_SUM(s);\n"
    "}\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One launch of `global` work-items (local: 0 = the driver's choice), waited
 * for; its seconds, or a negative value on an OpenCL error. */
static double run(cl_command_queue queue, cl_kernel kernel, size_t global, size_t local)
{
    double start = now();
    if (clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, local ? &local : NULL, 0, NULL,
                               NULL) != CL_SUCCESS ||
        clFinish(queue) != CL_SUCCESS)
        return -1.0;
    return now() - start;
}

int main(void)
{
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        fprintf(stderr, "peak-bench: %s\n", ctx ? clg_context_error(ctx) : "out of memory");
        clg_context_destroy(ctx);
        return 1;
    }
    clrt *rt = &ctx->rt;
    cl_uint width = 1, units = rt->desc.compute_units ? rt->desc.compute_units : 1;
    clGetDeviceInfo(rt->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width, NULL);
    if (width != 1 && width != 2 && width != 4 && width != 8 && width != 16)
        width = 1;
    static const char *sums[] = {
        [1] = "(v)",
        [2] = "((v).s0 + (v).s1)",
        [4] = "(((v).s0 + (v).s1) + ((v).s2 + (v).s3))",
        [8] = "((((v).s0 + (v).s1) + ((v).s2 + (v).s3)) + (((v).s4 + (v).s5) + ((v).s6 + (v).s7)))",
        [16] = "(dot((v).lo.lo, (float4)(1.0f)) + dot((v).lo.hi, (float4)(1.0f)) + "
               "dot((v).hi.lo, (float4)(1.0f)) + dot((v).hi.hi, (float4)(1.0f)))",
    };
    char options[512];
    if (width == 1)
        snprintf(options, sizeof options, "-D floatv=float -D \"LANE_SUM(v)=%s\"", sums[1]);
    else
        snprintf(options, sizeof options, "-D floatv=float%u -D \"LANE_SUM(v)=%s\"", width,
                 sums[width]);

    size_t global = (size_t)units * 256;
    cl_int err = CL_SUCCESS;
    cl_program program = clCreateProgramWithSource(rt->context, 1, &source, NULL, &err);
    cl_kernel kernel = NULL;
    cl_mem out = NULL;
    int code = 1;
    if (err != CL_SUCCESS || clBuildProgram(program, 1, &rt->device, options, NULL, NULL)) {
        fprintf(stderr, "peak-bench: the kernel did not build (OpenCL error %d)\n", (int)err);
        goto done;
    }
    kernel = clCreateKernel(program, "fma_peak", &err);
    out = clCreateBuffer(rt->context, CL_MEM_WRITE_ONLY, global * sizeof(float), NULL, &err);
    if (!kernel || !out) {
        fprintf(stderr, "peak-bench: no kernel or buffer (OpenCL error %d)\n", (int)err);
        goto done;
    }
    float a = 0.999f, b = 0.001f;
    cl_int iters = 256;
    clSetKernelArg(kernel, 0, sizeof out, &out);
    clSetKernelArg(kernel, 2, sizeof a, &a);
    clSetKernelArg(kernel, 3, sizeof b, &b);

    /* Grow the loop until one launch takes 50 ms: launch overhead then
     * costs well under 1% of the time. */
    for (;;) {
        clSetKernelArg(kernel, 1, sizeof iters, &iters);
        double t = run(rt->queue, kernel, global, 0);
        if (t < 0) {
            fprintf(stderr, "peak-bench: the kernel failed to run\n");
            goto done;
        }
        if (t >= 0.05 || iters >= (1 << 24))
            break;
        iters *= t < 0.005 ? 8 : 2;
    }

    size_t max_local = 1;
    clGetKernelWorkGroupInfo(kernel, rt->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_local,
                             &max_local, NULL);
    static const size_t locals[] = {0, 1, 16, 64, 256}; /* each divides global */
    double best = 0.0;
    size_t best_local = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (size_t i = 0; i < sizeof locals / sizeof locals[0]; i++) {
            size_t local = locals[i];
            if (local > max_local)
                continue;
            double t = run(rt->queue, kernel, global, local);
            double gflops =
                t > 0 ? 2.0 * CHAINS * width * (double)iters * (double)global / t / 1e9 : 0.0;
            if (gflops > best) {
                best = gflops;
                best_local = local;
            }
        }
    printf("peak-bench on %s: %u compute units, float%u chains of multiply-adds\n", rt->desc.name,
           units, width);
    printf("  best of %d rounds: %.1f GFLOP/s (%zu work-items, work-group size %s%zu)\n", ROUNDS,
           best, global, best_local ? "" : "the driver's, ", best_local);
    printf("result peak gflops=%.1f compute_units=%u width=%u\n", best, units, width);
    code = best > 0 ? 0 : 1;
done:
    if (out)
        clReleaseMemObject(out);
    if (kernel)
        clReleaseKernel(kernel);
    if (program)
        clReleaseProgram(program);
    clg_context_destroy(ctx);
    return code;
}
