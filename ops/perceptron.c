/* ops/perceptron.c: one epoch of Rosenblatt's perceptron rule, launched for
 * lecture/perceptron.c (see ops/perceptron.h). The rule is sequential, so the
 * kernel (ops/perceptron.cl) walks the samples on one work-item. */
#include "ops/perceptron.h"
#include "ops/internal.h"

bool op_perceptron_epoch(clg_tensor *x, clg_tensor *t, clg_tensor *w, clg_tensor *state, float eta)
{
    static const char op[] = "perceptron_epoch";
    clg_context *ctx = eng_op_begin(op, 4, (clg_tensor *const[]){x, t, w, state});
    if (!ctx)
        return false;
    int64_t n = x->rank == 2 ? x->shape[0] : 0, d = x->rank == 2 ? x->shape[1] : 0;
    bool ok = x->dtype == CLG_DTYPE_F32 && w->dtype == CLG_DTYPE_F32 && t->dtype == CLG_DTYPE_I32 &&
              state->dtype == CLG_DTYPE_I32 && n > 0 && d > 0 && t->rank == 1 && t->shape[0] == n &&
              w->rank == 1 && w->shape[0] == d + 1 && state->rank == 1 && state->shape[0] == 4 &&
              clg_tensor_is_contiguous(x) && clg_tensor_is_contiguous(t) &&
              clg_tensor_is_contiguous(w) && clg_tensor_is_contiguous(state);
    if (!ok) {
        char sx[64], st[64], sw[64], ss[64];
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: x %s, t %s, w %s, state %s; expected contiguous x (n, d) float32, t (n) "
                 "int32, w (d + 1) float32 and state (4) int32",
                 op, eng_shape_str(x, sx, sizeof sx), eng_shape_str(t, st, sizeof st),
                 eng_shape_str(w, sw, sizeof sw), eng_shape_str(state, ss, sizeof ss));
        return false;
    }
    return OP_LAUNCH(ctx, "ops/perceptron.cl", "perceptron_epoch", 1, ENG_ARG_TENSOR(x),
                     ENG_ARG_TENSOR(t), ENG_ARG_TENSOR(w), ENG_ARG_TENSOR(state), CLRT_ARG_INT(n),
                     CLRT_ARG_INT(d), CLRT_ARG_FLOAT(eta));
}
