/* check/tolerance.c: every tolerance of the test suites and of `clgrad
 * check`, one table with the reason for each size, and the inputs' random
 * generator. float32 has a 24-bit mantissa (relative spacing 6e-8); finite
 * differences in float32 lose about half of that to cancellation, hence the
 * looser gradcheck rows. */
#include <string.h>

#include "check/check.h"

static const chk_tol tolerances[] = {
    {"exact", 0, 0, 0, "integer results and copies: bit-exact"},
    {"default", 1e-5, 1e-6, 0, "one or two float32 roundings per element"},
    {"transcendental", 2e-5, 1e-6, 0,
     "exp/log/tanh/sigmoid: device libm may differ from glibc by a few ulp"},
    {"reduction", 1e-4, 1e-5, 0,
     "sums of up to 1e4 terms in a different order than the host or PyTorch"},
    {"sum_1e6", 5e-7, 0, 0,
     "1e6 float32 terms in short runs, then trees: ~1 ulp of the result; a single running "
     "float sum of the same terms is off by 5e-6"},
    {"gemm", 1e-4, 1e-5, 0,
     "CLBlast or clgrad's kernels accumulate K products in their own order (lanes, blocks)"},
    {"gemm_long_k", 1e-5, 0, 0,
     "K = 50176 to 100352 positive products summed in blocks of 256 (a plain running float "
     "sum of 50176 drifts to 2e-5)"},
    {"golden", 1e-4, 1e-5, 0, "PyTorch computed in float32 with its own summation order and libm"},
    {"gradcheck", 1e-2, 2e-3, 1e-2,
     "float32 central differences: O(h^2) truncation plus 6e-8 |f| / h round-off"},
    {"gradcheck_loose", 3e-2, 5e-3, 1e-2,
     "float32 central differences through log/div/pow near small inputs"},
    {"fd64", 2e-4, 2e-5, 1e-6,
     "the device's float32 backward against float64 central differences of the host "
     "reference (h = 1e-6: truncation 1e-12, round-off 1e-10): only the device's roundings "
     "remain, a few ulp per term over sums of up to a few hundred terms"},
    {"lecture", 0, 0.006, 0,
     "the slide prints two significant digits: half a unit of its last printed digit"},
    {"loss_curve", 1e-4, 0, 0, "the issue's bound for 10 training steps against PyTorch"},
    {"discriminant", 1e-4, 1e-5, 0,
     "LDA/QDA probabilities: float32 means and covariances on the device against "
     "scikit-learn's float64 fit"},
    {"recurrent", 1e-5, 1e-6, 0,
     "issue 5's bound for torch.nn.LSTM/RNN over 50 steps; atol for values near 0"},
    {"optim", 1e-5, 1e-7, 0,
     "an optimizer step in float32 against PyTorch's formula in double: a few roundings of "
     "p - lr u, with u near 1 for Adam's first steps"},
};

const chk_tol *chk_tol_get(const char *name)
{
    for (size_t i = 0; i < sizeof tolerances / sizeof tolerances[0]; i++)
        if (strcmp(tolerances[i].name, name) == 0)
            return &tolerances[i];
    return NULL;
}

void chk_random(float *x, size_t n, uint64_t seed, float low, float high)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        double u = (double)(z >> 11) / 9007199254740992.0;
        x[i] = (float)(low + (high - low) * u);
    }
}
