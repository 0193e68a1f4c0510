"""Philox4x32-10 counter-based block cipher (Salmon et al. 2011, Random123).

A pure function ``(counter[4], key[2]) -> 4 x uint32``: there is no generator
state, so any random number can be computed directly from its address.
Verified against Random123's published known-answer vectors.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, kernel

# Multipliers and Weyl key increments from Random123's philox.h.
M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = np.uint64(0x9E3779B9)
W1 = np.uint64(0xBB67AE85)
ROUNDS = 10

# Typed constants so Numba never mixes uint64 with int64 (which would give float64).
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


@kernel
def _round(
    c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """One Philox S-box/P-box round on uint64-held 32-bit words."""
    p0 = M0 * c0  # 32x32 -> 64 bit product, exact in uint64
    p1 = M1 * c2
    hi0 = p0 >> _SHIFT32
    lo0 = p0 & _MASK32
    hi1 = p1 >> _SHIFT32
    lo1 = p1 & _MASK32
    return (hi1 ^ c1 ^ k0) & _MASK32, lo1, (hi0 ^ c3 ^ k1) & _MASK32, lo0


@jit
def philox4x32_10(
    c0: int, c1: int, c2: int, c3: int, k0: int, k1: int
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """Philox4x32-10 of counter ``(c0, c1, c2, c3)`` under key ``(k0, k1)``.

    Arguments are uint32-valued integers (only their low 32 bits are used);
    returns the four 32-bit output words as ``np.uint32``.
    """
    x0 = np.uint64(c0) & _MASK32
    x1 = np.uint64(c1) & _MASK32
    x2 = np.uint64(c2) & _MASK32
    x3 = np.uint64(c3) & _MASK32
    key0 = np.uint64(k0) & _MASK32
    key1 = np.uint64(k1) & _MASK32
    for r in range(ROUNDS):
        if r > 0:  # the key is bumped between rounds, not before the first
            key0 = (key0 + W0) & _MASK32
            key1 = (key1 + W1) & _MASK32
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, key0, key1)
    return np.uint32(x0), np.uint32(x1), np.uint32(x2), np.uint32(x3)


@jit
def philox4x32_10_array(ctr: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Array form of :func:`philox4x32_10`: ``uint32[4], uint32[2] -> uint32[4]``."""
    x0, x1, x2, x3 = philox4x32_10(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1])
    out = np.empty(4, dtype=np.uint32)
    out[0] = x0
    out[1] = x1
    out[2] = x2
    out[3] = x3
    return out


__all__ = ["philox4x32_10", "philox4x32_10_array", "M0", "M1", "W0", "W1", "ROUNDS"]
