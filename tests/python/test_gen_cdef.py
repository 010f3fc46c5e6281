"""python/gen_cdef.py, the build-time generator of the cffi declarations:
what it keeps, and that it stops on what it does not understand."""
import importlib.util
import os

import cffi
import pytest

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
spec = importlib.util.spec_from_file_location('gen_cdef', os.path.join(ROOT, 'python',
                                                                       'gen_cdef.py'))
gen_cdef = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_cdef)


def generate(tmp_path, text, extra=None):
    (tmp_path / 'a.h').write_text(text)
    for name, body in (extra or {}).items():
        (tmp_path / name).write_text(body)
    return gen_cdef.generate(str(tmp_path / 'a.h'))


def test_the_public_headers_become_one_cdef_cffi_accepts():
    cdef, constants, headers = gen_cdef.generate(os.path.join(ROOT, 'include', 'clgrad',
                                                              'clgrad.h'))
    cffi.FFI().cdef(cdef)
    assert '#define CLG_MAX_RANK 4' in cdef and 'CLG_API' not in cdef
    assert 'extern' not in cdef and '__attribute__' not in cdef
    assert constants['CLG_FASHION_MNIST_DIR'] == '/usr/share/datasets/fashion-mnist'
    # Every header but dist.h, which clgrad.h includes only after <mpi.h>:
    # the package wraps no MPI (a Python program with mpi4py calls the C API).
    names = sorted(os.path.basename(h) for h in headers)
    assert names == sorted(set(os.listdir(os.path.join(ROOT, 'include', 'clgrad'))) - {'dist.h'})


def test_includes_guards_and_cplusplus_blocks(tmp_path):
    cdef, constants, headers = generate(tmp_path, '''
#ifndef A_H
#define A_H
#include <stdint.h>
#include "b.h"
#if defined(BUILDING)
#define API __attribute__((visibility("default")))
#else
#define API
#endif
#ifdef __cplusplus
extern "C" {
#endif
/* a comment with a ; in it */
#define SIZE 8 // trailing
API int32_t f(const char *s, int64_t n[SIZE]);
#ifdef __cplusplus
}
#endif
#endif
''', {'b.h': '#ifndef B_H\n#define B_H\ntypedef struct b b;\n#include "a.h"\n#endif\n'})
    assert cdef.split('\n')[0] == '#define SIZE 8'
    assert 'typedef struct b b;' in cdef and 'int32_t f(const char *s, int64_t n[8]);' in cdef
    assert 'extern' not in cdef and 'comment' not in cdef and '}' not in cdef
    assert constants == {} and len(headers) == 2
    cffi.FFI().cdef(cdef)


def test_float_macros_become_python_values(tmp_path):
    # The public headers hold none since the exam problem's constants moved
    # to lecture/lecture.h, so a header of its own keeps the rule tested.
    cdef, constants, headers = generate(tmp_path, '#define W0 (-8.0f)\n#define LR 1e-3\n')
    assert constants['W0'] == -8.0 and constants['LR'] == 1e-3
    assert 'W0' not in cdef


def test_an_x_macro_list_expands_into_its_enum(tmp_path):
    cdef, constants, headers = generate(tmp_path, '''
#define COLOURS(X) \\
    X(RED, 1)      \\
    X(BLUE, 4)
typedef enum colour {
#define ENUMERATOR_(NAME, value) COLOUR_##NAME = value,
    COLOURS(ENUMERATOR_)
#undef ENUMERATOR_
} colour;
int paint(colour c);
''')
    assert 'COLOUR_RED = 1, COLOUR_BLUE = 4,' in cdef and 'X(' not in cdef and '#' not in cdef
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    assert ffi.typeof('colour').relements == {'COLOUR_RED': 1, 'COLOUR_BLUE': 4}


@pytest.mark.parametrize('text, complaint', [
    ('#define NAME(x) #x\n', 'stringizing'),
    ('#define LOG(...) f(__VA_ARGS__)\n', 'named parameters'),
    ('#define TWO(a, b) a b\nint TWO(x);\n', 'takes 2 arguments'),
    ('#if VERSION > 2\n#endif\n', 'only defined'),
    ('#define NAME some tokens\n', 'not a number or a string'),
    ('#ifdef X\n', 'without #endif'),
    ('#pragma once\n', '#pragma'),
])
def test_what_it_does_not_understand_stops_the_build(tmp_path, text, complaint):
    with pytest.raises(gen_cdef.HeaderError, match=complaint):
        generate(tmp_path, text)
