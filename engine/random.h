/* engine/random.h: the seeded, counter-based generator every initialiser
 * (and, later, dropout and sampling kernels) draws from: Philox-4x32-10
 * (Salmon, Moraes, Dror and Shaw 2011, "Parallel random numbers: as easy as
 * 1, 2, 3"). Counter-based means the i-th number of a stream is a pure
 * function of (seed, stream, i): no state, so the host and a kernel that
 * computes the same function give the same numbers, in any order.
 *
 * Layout, which a device version must mirror:
 *   key     = {seed low 32 bits, seed high 32 bits}
 *   counter = {block low, block high, stream low, stream high}
 *   element i of a stream is word i % 4 of block i / 4.
 * Uniform floats use the top 24 bits of a word, so the conversion is exact
 * and identical on any device; normals come from Box-Muller on pairs of
 * words in float arithmetic (a device's logf/cosf may differ by an ulp).
 * For host-side streams that want a state instead (shuffles, splits,
 * samplers, per-layer seeds) there is eng_splitmix64 below.
 * Internal prefix: eng_. */
#ifndef CLGRAD_ENGINE_RANDOM_H
#define CLGRAD_ENGINE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* One Philox-4x32-10 block: 10 rounds of the bijection keyed by `key`. */
void eng_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* [0, 1): the top 24 bits of x times 2^-24. */
float eng_random_to_uniform(uint32_t x);

/* out[i] = element i of the stream, as a uniform float in [0, 1). */
void eng_random_uniform(uint64_t seed, uint64_t stream, float *out, size_t n);
/* out[i] = element i of the stream, standard normal: words (2k, 2k+1) of a
 * block give r cos(theta) and r sin(theta), r = sqrt(-2 log u1),
 * theta = 2 pi u2, u1 in (0, 1] so that log never sees 0. */
void eng_random_normal(uint64_t seed, uint64_t stream, float *out, size_t n);

/* splitmix64 (Steele, Lea and Flood 2014): the state steps by the golden
 * ratio and the result is a bijective mix of it, so nearby seeds give
 * unrelated streams. One definition for every host-side stream of the
 * library (batch shuffles, dataset splits, the fraud generator, layer
 * seeds, the char-LSTM sampler): their numbers are part of the tests'
 * expected values, so this function must never change. */
static inline uint64_t eng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fisher-Yates over v[0, n) with the eng_splitmix64 stream of `seed`, the
 * swap partner of v[i] being draw % (i + 1): the dataset and fraud splits.
 * (The modulo's bias, at most n / 2^64, is kept: a seed's split is part of
 * what the tests and saved runs expect.) */
static inline void eng_shuffle(int64_t *v, int64_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(eng_splitmix64(&state) % (uint64_t)(i + 1));
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

#endif
