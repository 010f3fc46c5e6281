/* zoo/logreg.c: multinomial logistic regression: one linear layer "fc1" from
 * the inputs to the class logits; trained with clg_cross_entropy_loss, whose
 * softmax turns the logits into class probabilities. */
#include "engine/engine.h"
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

/* "arch": "inputs-classes". */
static bool logreg_arch(clg_context *ctx, const zoo_checkpoint *ck, int64_t *widths)
{
    int n = 0;
    if (!zoo_stack_arch(ctx, ck, widths, &n))
        return false;
    if (n != 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; a logreg has two widths, "
                 "\"inputs-classes\"",
                 ck->fn, ck->path, clg_safetensors_metadata(ck->st, "arch"));
        return false;
    }
    return true;
}

static bool logreg_check(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[ZOO_MAX_WIDTHS];
    return logreg_arch(ctx, ck, widths) && zoo_expect_linear_stack(ctx, ck, widths, 2, 1);
}

static clg_model *logreg_from_metadata(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[ZOO_MAX_WIDTHS];
    return logreg_arch(ctx, ck, widths) ? clg_zoo_logreg_create(ctx, widths[0], widths[1], 0)
                                        : NULL;
}

const zoo_kind zoo_kind_logreg = {.name = "logreg",
                                  .forward = logreg_forward,
                                  .check = logreg_check,
                                  .from_metadata = logreg_from_metadata};
