/* examples/train_mlp.c: one epoch of an MLP on Fashion-MNIST (README.md's example).
 * cc train_mlp.c $(pkg-config --cflags --libs clgrad) -o train_mlp && ./train_mlp [DATA_DIR] */
#include <clgrad/clgrad.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    static float x[128 * 784];
    static int32_t y[128];
    clg_context *ctx = NULL;
    clg_dataset *train = NULL;
    clg_model *model = NULL;
    clg_optim *opt = NULL;
    clg_batcher *batches = NULL;
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM); /* lr 1e-3 */
    /* Each constructor returns NULL and leaves the reason in the context. */
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK ||
        !(train = clg_dataset_load_mnist(ctx, argc > 1 ? argv[1] : CLG_FASHION_MNIST_DIR, true)) ||
        !(model = clg_zoo_mlp_create(ctx, 784, (int64_t[]){256, 128}, 2, 10, 42)) ||
        !(opt = clg_optim_create(ctx, clg_model_params(model), &adam)) ||
        !(batches = clg_batcher_create(ctx, clg_dataset_size(train), 128, true, false, 42)))
        goto done;
    clg_batcher_begin_epoch(batches);
    const int64_t *indices;
    int64_t n, step = 0;
    while (clg_batcher_next(batches, &indices, &n) && clg_context_status(ctx) == CLG_STATUS_OK) {
        clg_dataset_gather(train, indices, n, x, y);
        clg_step_begin(ctx);
        clg_tensor *images = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){n, 784}, x);
        clg_tensor *labels = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){n}, y);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(model, images), labels, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(opt);
        clg_backward(loss); /* errors are sticky: after a failure, ops return NULL */
        clg_optim_step(opt);
        float value;
        if (++step % 100 == 0 && clg_tensor_item(loss, &value) == CLG_STATUS_OK) /* host sync */
            printf("step %lld  loss %.4f\n", (long long)step, (double)value);
        clg_step_end(ctx); /* releases every tensor of the step */
    }
    if (clg_context_status(ctx) == CLG_STATUS_OK)
        clg_model_save(model, "train_mlp.safetensors"); /* try: clgrad eval --load ... */
done:
    if (!ctx || clg_context_status(ctx) != CLG_STATUS_OK)
        fprintf(stderr, "train_mlp: %s\n", ctx ? clg_context_error(ctx) : "out of memory");
    int failed = !ctx || clg_context_status(ctx) != CLG_STATUS_OK;
    clg_batcher_destroy(batches);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_dataset_destroy(train);
    clg_context_destroy(ctx);
    return failed;
}
