/* fuzz/fuzz_cache.c: the kernel cache's entry parser (clrt_cache_parse,
 * cl/program.c), which decides whether a file's bytes may reach the OpenCL
 * driver. An entry it accepts lies inside the file and carries its key. */
#include <string.h>

#include "cl/runtime.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of the seed entries (fuzz/corpus/cache/). */
static const char key[] = "ops/binary.cl|0123456789abcdef|-cl-std=CL1.2 |cpu|OpenCL 1.2|1|2";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *binary = NULL;
    size_t binary_size = 0;
    clrt_cache_entry entry = clrt_cache_parse(data, size, key, &binary, &binary_size);
    if (entry == CLRT_CACHE_OK) {
        if (binary < data || binary_size == 0 || binary + binary_size != data + size)
            abort();
        volatile unsigned sum = 0;
        for (size_t i = 0; i < binary_size; i++)
            sum += binary[i];
    }
    return 0;
}
