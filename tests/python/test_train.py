"""Training through the Python package: the lecture's worked example to the
slide's printed digits, a synthetic problem, and a short Fashion-MNIST run
(python/clgrad/nn.py, optim.py, zoo.py, data.py)."""
import numpy as np
import pytest

import clgrad
from conftest import FASHION_MNIST, needs_fashion_mnist


def assert_printed(value, printed):
    """value equals the slide's number at the precision it was printed with."""
    decimals = len(printed.split('.')[1])
    assert abs(float(value) - float(printed)) <= 0.5 * 10 ** -decimals + 1e-12, (value, printed)


def test_the_lectures_worked_example_step_by_step():
    # DESIGN.md: 2 inputs, 2 sigmoid hidden units, 1 sigmoid output, loss
    # (y - t)^2 with t = 0, one SGD step with learning rate 1.
    model = clgrad.nn.Sequential(clgrad.nn.Linear(2, 2), clgrad.nn.Sigmoid(),
                                 clgrad.nn.Linear(2, 1), clgrad.nn.Sigmoid())
    model.load_state_dict({'0.weight': [[0.1, 0.2], [0.3, 0.4]], '0.bias': [0.5, 0.5],
                           '2.weight': [[0.5, 0.6]], '2.bias': [0.5]})
    opt = clgrad.optim.SGD(model.parameters(), lr=1.0)
    x = np.array([[0.2, 0.3]])
    with clgrad.step():
        y = model(x)
        loss = clgrad.mse_loss(y, np.zeros((1, 1)), reduction='sum')
        assert_printed(y.item(), '0.77')
        assert_printed(loss.item(), '0.60')
        opt.zero_grad()
        loss.backward()
        grads = {name: t.grad.numpy() for name, t in model.named_parameters()}
        opt.step()
    for got, printed in zip(grads['2.weight'].ravel(), ['0.17', '0.18']):
        assert_printed(got, printed)
    assert_printed(grads['2.bias'][0], '0.27')
    for got, printed in zip(grads['0.weight'].ravel(), ['0.0063', '0.0094', '0.0073', '0.011']):
        assert_printed(got, printed)
    for got, printed in zip(grads['0.bias'], ['0.031', '0.036']):
        assert_printed(got, printed)
    state = model.state_dict()
    for got, printed in zip(state['2.weight'].ravel(), ['0.33', '0.42']):
        assert_printed(got, printed)
    assert_printed(state['2.bias'][0], '0.23')
    for got, printed in zip(state['0.weight'].ravel(), ['0.094', '0.19', '0.29', '0.39']):
        assert_printed(got, printed)
    for got, printed in zip(state['0.bias'], ['0.47', '0.46']):
        assert_printed(got, printed)
    with clgrad.step():
        assert_printed(model(x).item(), '0.67')


class Blobs(clgrad.nn.Module):
    """A module of one's own: sub-modules and Parameters found by attribute."""

    def __init__(self):
        self.hidden = clgrad.nn.Linear(2, 16, seed=3)
        self.out = clgrad.nn.Linear(16, 3, seed=4)
        self.scale = clgrad.nn.Parameter(np.ones(3))

    def forward(self, x):
        return self.out(clgrad.tanh(self.hidden(x))) * self.scale


@pytest.mark.parametrize('optimizer', ['sgd', 'momentum', 'rmsprop', 'adam', 'adamw'])
def test_a_small_classifier_learns_three_blobs(optimizer, rng):
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    labels = rng.integers(0, 3, 600)
    points = centres[labels] + 0.6 * rng.standard_normal((600, 2))
    model = Blobs()
    assert [name for name, _ in model.named_parameters()] == [
        'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias', 'scale']
    params = model.parameters()
    opt = {'sgd': lambda: clgrad.optim.SGD(params, lr=0.5),
           'momentum': lambda: clgrad.optim.SGD(params, lr=0.1, momentum=0.9),
           'rmsprop': lambda: clgrad.optim.RMSprop(params, lr=0.01),
           'adam': lambda: clgrad.optim.Adam(params, lr=0.02),
           'adamw': lambda: clgrad.optim.AdamW(params, lr=0.02)}[optimizer]()
    losses = []
    for epoch in range(4):
        for batch in clgrad.data.batches(600, 50, seed=7, epoch=epoch):
            with clgrad.step():
                loss = clgrad.cross_entropy(model(points[batch]), labels[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
    with clgrad.no_grad(), clgrad.step():
        predicted = model(points).argmax(dim=1).numpy()
    accuracy, matrix = clgrad.data.confusion_matrix(predicted, labels, 3)
    assert accuracy > 0.9 and matrix.sum() == 600
    assert np.mean(losses[-6:]) < 0.5 * np.mean(losses[:6])


@needs_fashion_mnist
def test_an_mlp_learns_fashion_mnist_in_a_few_hundred_steps():
    images, labels = clgrad.data.load_mnist(FASHION_MNIST, train=True)
    assert images.shape == (60000, 784) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and labels.max() == 9
    model = clgrad.zoo.mlp(784, [128], 10, seed=42)
    opt = clgrad.optim.Adam(model.parameters())
    for step, batch in enumerate(clgrad.data.batches(len(labels), 64, seed=42)):
        if step == 300:
            break
        with clgrad.step():
            loss = clgrad.cross_entropy(model(images[batch]), labels[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    test_images, test_labels = clgrad.data.load_mnist(FASHION_MNIST, train=False)
    with clgrad.no_grad(), clgrad.step():
        predicted = model(test_images[:2000]).argmax(dim=1).numpy()
    assert (predicted == test_labels[:2000]).mean() > 0.75
