/* zoo/logreg.c: multinomial logistic regression: one linear layer "fc1" from
 * the inputs to the class logits; trained with clg_cross_entropy_loss, whose
 * softmax turns the logits into class probabilities. */
#include "zoo/model.h"

/* x (N, in) -> fc1 -> logits (N, classes) */
static clg_tensor *logreg_forward(const clg_model *model, clg_tensor *x)
{
    return clg_linear_forward(model->layers[0], x);
}

CLG_API clg_model *clg_zoo_logreg_create(clg_context *ctx, int64_t in_features, int64_t classes,
                                         uint64_t seed)
{
    const int64_t widths[] = {in_features, classes};
    return zoo_model_create(ctx, "clg_zoo_logreg_create", "logreg", widths, 2, seed,
                            logreg_forward);
}
