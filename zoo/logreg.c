/* zoo/logreg.c: multinomial logistic regression: one linear layer "fc1" from
 * the inputs to the class logits; trained with clg_cross_entropy_loss, whose
 * softmax turns the logits into class probabilities. */
#include "zoo/model.h"

extern const zoo_kind zoo_kind_logreg;

/* x (N, in) -> fc1 -> logits (N, classes) */
static clg_tensor *logreg_forward(const clg_model *model, clg_tensor *x)
{
    return clg_linear_forward(model->layers[0], x);
}

CLG_API clg_model *clg_zoo_logreg_create(clg_context *ctx, int64_t in_features, int64_t classes,
                                         uint64_t seed)
{
    const int64_t widths[] = {in_features, classes};
    return zoo_model_create(ctx, "clg_zoo_logreg_create", &zoo_kind_logreg, widths, 2, seed);
}

static bool logreg_widths_fit(const int64_t *widths, int n)
{
    (void)widths;
    return n == 2;
}

/* From a checkpoint's "arch", "inputs-classes". */
static clg_model *logreg_from_widths(clg_context *ctx, const int64_t *widths, int n)
{
    (void)n;
    return clg_zoo_logreg_create(ctx, widths[0], widths[1], 0);
}

const zoo_kind zoo_kind_logreg = {.name = "logreg",
                                  .forward = logreg_forward,
                                  .check = zoo_stack_check,
                                  .from_metadata = zoo_stack_from_metadata,
                                  .from_widths = logreg_from_widths,
                                  .widths_fit = logreg_widths_fit,
                                  .widths_rule = "a logreg has two widths, \"inputs-classes\""};
