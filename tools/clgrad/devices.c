/* tools/clgrad/devices.c: `clgrad devices`, every OpenCL platform and device
 * with what matters for training, and a * on the one clgrad would pick. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define MAX_DEVICES 64

static const char devices_usage[] =
    "usage: clgrad devices\n"
    "\n"
    "Lists every OpenCL platform and device: type, compute units, global and local\n"
    "memory, largest allocation, OpenCL C version, driver, fp64 and fp16 support.\n"
    "A * marks the device clgrad picks: CLGRAD_DEVICE (gpu, cpu, P:D or a name\n"
    "substring) when set, else the first GPU, else the first CPU. An unknown\n"
    "CLGRAD_DEVICE is an error.\n";

static const char *type_name(clg_device_type type)
{
    switch (type) {
    case CLG_DEVICE_TYPE_CPU: return "CPU";
    case CLG_DEVICE_TYPE_GPU: return "GPU";
    case CLG_DEVICE_TYPE_ACCELERATOR: return "accelerator";
    case CLG_DEVICE_TYPE_OTHER: break;
    }
    return "other";
}

/* "15.6 GiB", "64 KiB" */
static const char *bytes_str(uint64_t bytes, char *buffer, size_t capacity)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        unit++;
    }
    if (value == (double)(uint64_t)value)
        snprintf(buffer, capacity, "%.0f %s", value, units[unit]);
    else
        snprintf(buffer, capacity, "%.1f %s", value, units[unit]);
    return buffer;
}

int cli_devices(int argc, char **argv)
{
    cli_args args;
    cli_args_init(&args, "devices", argc, argv, NULL, NULL);
    /* no options or arguments: the walk stops at the first one */
    int exit_code;
    if (!cli_args_option(&args, devices_usage, NULL, &exit_code) && exit_code >= 0)
        return exit_code;

    static clg_device_desc descs[MAX_DEVICES];
    size_t count = 0;
    if (clg_devices_list(descs, MAX_DEVICES, &count) != CLG_STATUS_OK || count == 0) {
        cli_error("no OpenCL device found: install an OpenCL driver (on Debian, "
                  "pocl-opencl-icd for the CPU) and check with `clinfo -l`");
        return CLI_EXIT_FAILURE;
    }
    if (count > MAX_DEVICES)
        count = MAX_DEVICES;
    int pick = clg_devices_pick(descs, count, NULL);

    int platform = -1;
    for (size_t i = 0; i < count; i++) {
        const clg_device_desc *d = &descs[i];
        if (d->platform_index != platform) {
            platform = d->platform_index;
            printf("%splatform %d: %s (%s)\n", i ? "\n" : "", platform, d->platform_name,
                   d->platform_version);
        }
        char global[32], local[32], alloc[32];
        printf("%c %d:%d  %s  [%s]\n", (int)i == pick ? '*' : ' ', d->platform_index,
               d->device_index, d->name, type_name(d->type));
        printf("        vendor          %s\n", d->vendor);
        printf("        compute units   %u\n", d->compute_units);
        printf("        global memory   %s\n",
               bytes_str(d->global_mem_bytes, global, sizeof global));
        printf("        local memory    %s\n", bytes_str(d->local_mem_bytes, local, sizeof local));
        printf("        max allocation  %s\n", bytes_str(d->max_alloc_bytes, alloc, sizeof alloc));
        printf("        version         %s\n", d->version);
        printf("        OpenCL C        %s\n", d->opencl_c_version);
        printf("        driver          %s\n", d->driver_version);
        printf("        fp64            %s\n", d->fp64 ? "yes" : "no");
        printf("        fp16            %s\n", d->fp16 ? "yes" : "no");
    }

    if (pick < 0) {
        /* The context's message lists every device and says what the
         * variable accepts; opening one is the way to get it. */
        clg_context *ctx = NULL;
        clg_status status = clg_context_create(NULL, &ctx);
        int code = CLI_EXIT_FAILURE;
        if (status != CLG_STATUS_OK)
            cli_context_error(ctx);
        else
            cli_error("no OpenCL device matches CLGRAD_DEVICE=\"%s\"",
                      getenv("CLGRAD_DEVICE") ? getenv("CLGRAD_DEVICE") : "");
        clg_context_destroy(ctx);
        return code;
    }
    return 0;
}
