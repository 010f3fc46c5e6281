/* cl/device.c: listing OpenCL platforms and devices, and the rule that picks
 * one: an explicit spec ("gpu", "cpu", "P:D", or a name substring), else the
 * first GPU, else the first CPU, else the first device of any type. Under
 * MPI, "first" of a type means the k-th for the k-th rank on the machine. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/runtime.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 32

static void info_string(cl_device_id device, cl_device_info what, char *out, size_t capacity)
{
    out[0] = '\0';
    if (clGetDeviceInfo(device, what, capacity, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[capacity - 1] = '\0';
}

static void describe(cl_platform_id platform, cl_device_id device, clg_device_desc *d)
{
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof d->platform_name, d->platform_name, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof d->platform_version,
                      d->platform_version, NULL);
    d->platform_name[sizeof d->platform_name - 1] = '\0';
    d->platform_version[sizeof d->platform_version - 1] = '\0';
    info_string(device, CL_DEVICE_NAME, d->name, sizeof d->name);
    info_string(device, CL_DEVICE_VENDOR, d->vendor, sizeof d->vendor);
    info_string(device, CL_DEVICE_VERSION, d->version, sizeof d->version);
    info_string(device, CL_DRIVER_VERSION, d->driver_version, sizeof d->driver_version);
    info_string(device, CL_DEVICE_OPENCL_C_VERSION, d->opencl_c_version,
                sizeof d->opencl_c_version);

    cl_device_type type = 0;
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    d->type = (type & CL_DEVICE_TYPE_GPU)           ? CLG_DEVICE_TYPE_GPU
              : (type & CL_DEVICE_TYPE_CPU)         ? CLG_DEVICE_TYPE_CPU
              : (type & CL_DEVICE_TYPE_ACCELERATOR) ? CLG_DEVICE_TYPE_ACCELERATOR
                                                    : CLG_DEVICE_TYPE_OTHER;
    cl_uint units = 0;
    cl_ulong global = 0, local = 0, max_alloc = 0;
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    d->compute_units = units;
    d->global_mem_bytes = global;
    d->local_mem_bytes = local;
    d->max_alloc_bytes = max_alloc;

    /* fp64 and fp16 are optional in OpenCL 1.2: read the extension string. */
    size_t ext_size = 0;
    clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size);
    char *ext = calloc(ext_size + 1, 1);
    if (ext && clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, ext_size, ext, NULL) == CL_SUCCESS) {
        d->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        d->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    }
    free(ext);
}

/* Calls `visit` for every device; returns the number visited, or -1 when no
 * platform is installed. */
static int for_each_device(void (*visit)(void *, int, int, cl_platform_id, cl_device_id),
                           void *arg)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n_platforms = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, platforms, &n_platforms) != CL_SUCCESS ||
        n_platforms == 0)
        return -1;
    if (n_platforms > MAX_PLATFORMS)
        n_platforms = MAX_PLATFORMS;
    int total = 0;
    for (cl_uint p = 0; p < n_platforms; p++) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint n_devices = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices, &n_devices) !=
            CL_SUCCESS)
            continue;
        if (n_devices > MAX_DEVICES)
            n_devices = MAX_DEVICES;
        for (cl_uint d = 0; d < n_devices; d++)
            visit(arg, (int)p, (int)d, platforms[p], devices[d]);
        total += (int)n_devices;
    }
    return total;
}

typedef struct list_state {
    clg_device_desc *descs;
    size_t capacity;
    size_t count;
} list_state;

static void list_visit(void *arg, int p, int d, cl_platform_id platform, cl_device_id device)
{
    list_state *s = arg;
    if (s->count < s->capacity) {
        clg_device_desc *desc = &s->descs[s->count];
        memset(desc, 0, sizeof *desc);
        desc->platform_index = p;
        desc->device_index = d;
        describe(platform, device, desc);
    }
    s->count++;
}

clg_status clrt_devices_list(clg_device_desc *descs, size_t capacity, size_t *count)
{
    list_state s = {descs, capacity, 0};
    int n = for_each_device(list_visit, &s);
    *count = s.count;
    return n < 0 ? CLG_STATUS_NO_DEVICE : CLG_STATUS_OK;
}

static bool contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* The process's rank among the MPI ranks on its machine: CLGRAD_LOCAL_RANK
 * (clg_dist_setup sets it from MPI_Comm_split_type), else Open MPI's
 * OMPI_COMM_WORLD_LOCAL_RANK; 0 outside MPI. */
static int local_rank(void)
{
    const char *names[] = {"CLGRAD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *text = getenv(names[i]);
        int rank;
        char tail;
        if (text && sscanf(text, "%d%c", &rank, &tail) == 1 && rank >= 0)
            return rank;
    }
    return 0;
}

/* The device of `type` for this process: local rank k takes the k-th one
 * (modulo their number), so that ranks sharing a machine spread over its
 * devices, and ranks outnumbering them share. */
static int first_of_type(const clg_device_desc *descs, size_t count, clg_device_type type)
{
    int of_type = 0;
    for (size_t i = 0; i < count; i++)
        of_type += descs[i].type == type;
    if (of_type == 0)
        return -1;
    int wanted = local_rank() % of_type;
    for (size_t i = 0; i < count; i++)
        if (descs[i].type == type && wanted-- == 0)
            return (int)i;
    return -1;
}

int clrt_devices_pick(const clg_device_desc *descs, size_t count, const char *spec)
{
    if (spec == NULL)
        spec = getenv("CLGRAD_DEVICE");
    if (spec == NULL || spec[0] == '\0') {
        int i = first_of_type(descs, count, CLG_DEVICE_TYPE_GPU);
        if (i < 0)
            i = first_of_type(descs, count, CLG_DEVICE_TYPE_CPU);
        if (i < 0 && count > 0)
            i = 0;
        return i;
    }
    if (strcmp(spec, "gpu") == 0)
        return first_of_type(descs, count, CLG_DEVICE_TYPE_GPU);
    if (strcmp(spec, "cpu") == 0)
        return first_of_type(descs, count, CLG_DEVICE_TYPE_CPU);
    int p, d;
    char tail;
    if (sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2) {
        for (size_t i = 0; i < count; i++)
            if (descs[i].platform_index == p && descs[i].device_index == d)
                return (int)i;
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (contains_ignoring_case(descs[i].name, spec))
            return (int)i;
    return -1;
}

typedef struct find_state {
    int platform_index, device_index;
    cl_platform_id platform;
    cl_device_id device;
} find_state;

static void find_visit(void *arg, int p, int d, cl_platform_id platform, cl_device_id device)
{
    find_state *s = arg;
    if (p == s->platform_index && d == s->device_index) {
        s->platform = platform;
        s->device = device;
    }
}

/* Used by clrt_init: resolves a listed description back to its handles. */
bool clrt_device_handles(const clg_device_desc *desc, cl_platform_id *platform,
                         cl_device_id *device)
{
    find_state s = {desc->platform_index, desc->device_index, NULL, NULL};
    for_each_device(find_visit, &s);
    *platform = s.platform;
    *device = s.device;
    return s.device != NULL;
}

CLG_API clg_status clg_devices_list(clg_device_desc *descs, size_t capacity, size_t *count)
{
    return clrt_devices_list(descs, capacity, count);
}

CLG_API int clg_devices_pick(const clg_device_desc *descs, size_t count, const char *spec)
{
    return clrt_devices_pick(descs, count, spec);
}
