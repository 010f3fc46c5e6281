"""examples/train_mlp.py: examples/train_mlp.c in Python: one epoch of an MLP on
Fashion-MNIST, then its test accuracy. In a venv, after `pip install .`:
    python3 examples/train_mlp.py [DATA_DIR]"""
import sys

import clgrad

data_dir = sys.argv[1] if len(sys.argv) > 1 else clgrad.data.FASHION_MNIST_DIR
images, labels = clgrad.data.load_mnist(data_dir, train=True)  # (60000, 784) floats, (60000) ints
model = clgrad.zoo.mlp(784, [256, 128], 10, seed=42)
opt = clgrad.optim.Adam(model.parameters())  # lr 1e-3
# The same shuffled batches of 128 as clg_batcher gives the C example.
for step, batch in enumerate(clgrad.data.batches(len(labels), 128, seed=42), 1):
    with clgrad.step():  # every tensor made inside is released at the end
        loss = clgrad.cross_entropy_loss(model(images[batch]), labels[batch])
        opt.zero_grad()
        loss.backward()  # errors raise clgrad.Error with the library's message
        opt.step()
        if step % 100 == 0:
            print(f'step {step}  loss {loss.item():.4f}')  # host sync
model.save('train_mlp.safetensors')  # try: clgrad eval --load train_mlp.safetensors
test_images, test_labels = clgrad.data.load_mnist(data_dir, train=False)
with clgrad.no_grad(), clgrad.step():
    predicted = model(test_images).argmax(dim=1).numpy()
print(f'test accuracy {(predicted == test_labels).mean():.2%}')
