"""tests/python: pytest suites for the Python package (python/clgrad), run by
meson's "python" test (python/run_pytest.py, against build/python) and by
.ci/run against the package pip installed into a venv."""
import os

import numpy as np
import pytest

import clgrad

FASHION_MNIST = os.environ.get('CLGRAD_FASHION_MNIST', clgrad.data.FASHION_MNIST_DIR)
HAVE_FASHION_MNIST = os.path.exists(os.path.join(FASHION_MNIST, 'train-labels-idx1-ubyte.gz'))
needs_fashion_mnist = pytest.mark.skipif(
    not HAVE_FASHION_MNIST,
    reason=f'no Fashion-MNIST in {FASHION_MNIST} (Debian: dataset-fashion-mnist)')


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
