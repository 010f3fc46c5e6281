/* tests/cl/test_cache.c: the on-disk kernel cache's entries (cl/program.c)
 * when they are damaged: each kind of damage (a flipped byte in the binary,
 * a cut entry, a length past the end, a binary the driver refuses though its
 * checksum is right, an empty file) is caught before the binary reaches the
 * driver or when the driver refuses it; the entry is deleted and rebuilt
 * from source, the run goes on, and the next context loads the new entry. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

#define MAGIC_SIZE 25 /* "clgrad-program-binary-v2" and its NUL */

static clg_context *cached_context(const char *dir)
{
    clg_context_options o = clg_context_options_default();
    o.cache_dir = dir;
    o.disk_cache = true;
    clg_context *ctx = NULL;
    ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_OK);
    return ctx;
}

/* a + a on four numbers, checked: the run must go on whatever the cache. */
static clg_counters add_once(const char *dir)
{
    clg_context *ctx = cached_context(dir);
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4}, false);
    clg_step_begin(ctx);
    clg_tensor *s = clg_add(a, a);
    ck_assert_msg(s != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(s);
    ck_assert_float_eq(got[3], 8.0f);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
    clg_counters c;
    clg_counters_get(ctx, &c);
    clg_context_destroy(ctx);
    return c;
}

/* The entries of `dir`, their paths in paths[] (at most `max`). */
static int list_entries(const char *dir, char paths[][1100], int max)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp"))
            snprintf(paths[n++], sizeof paths[0], "%s/%s", dir, e->d_name);
    closedir(d);
    return n;
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc(*size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, *size, f), *size);
    fclose(f);
    return bytes;
}

static void write_all(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

typedef enum damage { FLIP, CUT, LONG_LENGTH, REFUSED_BINARY, EMPTY, DAMAGES } damage;
static const char *const damage_names[DAMAGES] = {"flipped byte", "cut in half",
                                                  "length past the end",
                                                  "binary refused by the driver", "empty file"};

/* Damages the entry at `path` in place, keeping its header intact. */
static void spoil(const char *path, damage how)
{
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size);
    ck_assert_mem_eq(bytes, "clgrad-program-binary-v2", MAGIC_SIZE);
    uint64_t key_len;
    memcpy(&key_len, bytes + MAGIC_SIZE, 8);
    size_t binary_at = MAGIC_SIZE + 8 + (size_t)key_len + 16;
    ck_assert_uint_gt(size, binary_at);
    size_t binary_size = size - binary_at;
    switch (how) {
    case FLIP:
        bytes[binary_at + binary_size / 2] ^= 0x5a;
        break;
    case CUT:
        size = binary_at + binary_size / 2;
        break;
    case LONG_LENGTH: {
        uint64_t claimed = 160u << 20; /* the 160 MB read once seen past the buffer */
        memcpy(bytes + binary_at - 16, &claimed, 8);
        break;
    }
    case REFUSED_BINARY: {
        /* right checksum, wrong content: only the driver can tell */
        memset(bytes + binary_at, 0x7f, binary_size);
        uint64_t checksum = fnv1a(bytes + binary_at, binary_size);
        memcpy(bytes + binary_at - 8, &checksum, 8);
        break;
    }
    case EMPTY:
        size = 0;
        break;
    case DAMAGES:
        break;
    }
    write_all(path, bytes, size);
    free(bytes);
}

/* Mesa 22's rusticl panics inside clCreateProgramWithBinary on a binary it
 * cannot parse ("unknown version", program.rs) and takes the process with
 * it: no caller can survive that, which is why the checksum keeps damaged
 * binaries from reaching any driver. Only a binary with a right checksum
 * and wrong content gets there; that case is skipped on rusticl. */
static bool driver_survives_bad_binaries(void)
{
    clg_device_desc descs[16];
    size_t count = 0;
    if (clg_devices_list(descs, 16, &count) != CLG_STATUS_OK || count == 0)
        return true;
    int pick = clg_devices_pick(descs, count < 16 ? count : 16, NULL);
    return pick < 0 || !strstr(descs[pick].platform_name, "rusticl");
}

START_TEST(test_cache_damaged_entries_rebuilt)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    for (int how = 0; how < DAMAGES; how++) {
        if (how == REFUSED_BINARY && !driver_survives_bad_binaries())
            continue;
        char dir[] = "/tmp/clgrad-cache-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        clg_counters first = add_once(dir);
        ck_assert_uint_eq(first.disk_cache_hits, 0);
        char paths[8][1100];
        int n = list_entries(dir, paths, 8);
        ck_assert_int_ge(n, 1);
        for (int i = 0; i < n; i++)
            spoil(paths[i], (damage)how);

        clg_counters second = add_once(dir);
        ck_assert_msg(second.disk_cache_rejects == (uint64_t)n && second.disk_cache_hits == 0,
                      "%s: %llu rejects and %llu hits for %d damaged entries",
                      damage_names[how], (unsigned long long)second.disk_cache_rejects,
                      (unsigned long long)second.disk_cache_hits, n);
        /* rebuilt entries, whole again */
        ck_assert_int_eq(list_entries(dir, paths, 8), n);
        clg_counters third = add_once(dir);
        ck_assert_msg(third.disk_cache_rejects == 0 && third.disk_cache_hits == third.program_builds,
                      "%s: the rebuilt entries were not used", damage_names[how]);
        for (int i = 0; i < n; i++)
            remove(paths[i]);
        rmdir(dir);
    }
}
END_TEST

/* An entry of an older format (v1, no checksum) is rebuilt too. */
START_TEST(test_cache_old_format_rebuilt)
{
    clg_context_destroy(test_context());
    char dir[] = "/tmp/clgrad-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    add_once(dir);
    char paths[8][1100];
    int n = list_entries(dir, paths, 8);
    for (int i = 0; i < n; i++) {
        size_t size = 0;
        unsigned char *bytes = read_all(paths[i], &size);
        bytes[MAGIC_SIZE - 2] = '1'; /* "...-v1" */
        write_all(paths[i], bytes, size);
        free(bytes);
    }
    clg_counters c = add_once(dir);
    ck_assert_uint_eq(c.disk_cache_rejects, (uint64_t)n);
    ck_assert_uint_eq(add_once(dir).disk_cache_hits, c.program_builds);
    for (int i = 0; i < n; i++)
        remove(paths[i]);
    rmdir(dir);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_cache_damaged_entries_rebuilt, test_cache_old_format_rebuilt,
                            NULL};
    return test_main("cl/cache", "cache", 0, tests);
}
