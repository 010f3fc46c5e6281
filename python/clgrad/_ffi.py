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

# Resolve every declaration now. cffi resolves lib.NAME lazily, under a lock
# that ffi.new also holds while it parses a type; a finaliser (__del__) that
# the garbage collector runs inside such a call and looks up a destroy
# function for the first time would wait on that lock for ever.
for _name in dir(lib):
    try:
        getattr(lib, _name)
    except AttributeError:  # declared but not in this library: fails when used
        pass

__all__ = ['ffi', 'lib', 'CONSTANTS']
