"""clgrad._ffi: the binding itself. cffi in ABI mode over the library beside
this file, with declarations that python/gen_cdef.py generated from
include/clgrad/ at build time (_cdef.py): nothing here repeats a C
declaration. CLGRAD_LIBRARY, if set, names another copy of the library (one
built with sanitizers, say); it must match the headers the cdef came from."""
import glob
import os

import cffi

from ._cdef import CDEF, CONSTANTS

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _library_path():
    path = os.environ.get('CLGRAD_LIBRARY')
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(here, 'libclgrad.*')))
    if not found:
        raise ImportError(f'clgrad: no libclgrad beside {here}; build the package with '
                          '`pip install .` (or meson, then PYTHONPATH=build/python)')
    return found[0]


lib = ffi.dlopen(_library_path())

__all__ = ['ffi', 'lib', 'CONSTANTS']
