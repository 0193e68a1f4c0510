"""The one Numba decorator used by ``sim.sampling``.

All Numba options live here so the SimPy model and a compiled engine run the
very same machine code. ``fastmath`` is deliberately off: it lets LLVM reorder
floating-point operations, which would break bit-for-bit reproducibility
between the two.
"""

from __future__ import annotations

import functools

import numba

#: ``@jit`` == ``@numba.njit(cache=True)``: nopython mode, cached on disk, no fastmath.
jit = functools.partial(numba.njit, cache=True)

#: ``@kernel``: a function only compiled code calls (the engine's rules), so Numba builds no wrapper to
#: call it from Python: wrappers that unpack structs of arrays are most of the cold compile's code.
kernel = functools.partial(numba.njit, cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)

__all__ = ["jit", "kernel"]
