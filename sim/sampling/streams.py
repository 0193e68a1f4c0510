"""Addressable random numbers: every uniform has a fixed address.

A pair of uniforms is the Philox4x32-10 encryption of its address::

    key     = (seed mod 2**32, replication mod 2**32)
    counter = (occurrence mod 2**32,            # word 0: n-th draw of this entity in this stream
               entity mod 2**32,                # word 1: low half of the 64-bit entity id
               (entity >> 32) mod 2**32,        # word 2: high half = kind << 16 | index
               stream mod 2**32)                # word 3: what the number is used for (Stream)

The four 32-bit output words x0..x3 give two doubles with 53-bit resolution,
strictly inside (0, 1)::

    k  = (x0 >> 5) * 2**26 + (x1 >> 6)       # 53 random bits
    u0 = (k + 0.5) * 2**-53                  # midpoint of the k-th cell
    u1 = the same from x2, x3

(the single value that would round to 1.0, k = 2**53 - 1, is clamped to the
largest double below 1, so ``log1p(-u)`` is always finite).

Why: there is no generator state to advance, so a person's numbers do not
depend on how many numbers anything else has used, or in which order events
happened. The SimPy model and a compiled engine that call the same functions
with the same address draw the very same numbers, and two scenarios share
draws person by person (common random numbers), which sharpens comparisons.
"""

from __future__ import annotations

import enum
import operator

import numpy as np

from ._jit import jit
from .philox import philox4x32_10

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT5 = np.uint64(5)
_SHIFT6 = np.uint64(6)
_TWO26 = np.uint64(1 << 26)
_TWO_M53 = 2.0**-53
_ONE_MINUS_ULP = 1.0 - 2.0**-53  # largest double < 1

SEED_LIMIT = 2**32
KIND_LIMIT = 2**15  # keeps entity ids non-negative in int64
INDEX_LIMIT = 2**16
NUMBER_LIMIT = 2**32


class Stream(enum.IntEnum):
    """What a random number is used for (counter word 3). Never renumber."""

    ARRIVAL = 1  # inter-arrival times of a crisis source; entity = source, occurrence = arrival no.
    ROUTE = 2  # unit type of a crisis/admission and out-of-area-by-need; entity = person
    LOS = 3  # length of stay; entity = person, occurrence = admission number of that person
    CENSUS_RESIDUAL = 4  # remaining stay of an inpatient in the starting census; entity = person
    REGISTER_JOIN = 5  # RAG rating of a person joining the register; entity = person
    REGISTER_RAG = 6  # next register event (crisis, RAG move, leaving) and its time; occurrence = sojourn number
    REGISTER_LEAVE = 7  # reserved (leaving is drawn with REGISTER_RAG)
    CRISIS = 8  # reserved (a member's crisis is drawn with REGISTER_RAG)
    CTR = 9  # pre-admission CTR held (u0) and admission averted (u1); occurrence = crisis number
    AVERT = 10  # reserved (drawn with CTR)
    CRISIS_SUPPORT_LOS = 11  # length of crisis support; occurrence = support spell number
    INPATIENT_CTR = 12  # an inpatient CTR finds the person ready; occurrence = admission << 16 | CTR number
    DISCHARGE_DELAY = 13  # provider lead, funding, dispute delays; occurrence = 3 x admission + 0, 1, 2
    PLACEMENT = 14  # placement type (u0) and S117 dispute (u1); occurrence = admission number
    BREAKDOWN = 15  # time to placement breakdown; occurrence = placement number
    DEATH = 16  # hospital death (occurrence 2 x admission number) and community death (2 x placement number + 1)
    PERSON = 17  # attributes of a new person (child or adult); occurrence 0
    RETURN_HOME = 18  # a ready inpatient goes back to their previous home; occurrence = admission number
    TRANSFER = 19  # where a transfer between units goes (u0); occurrence = transfer number of that person
    STEP = 20  # a step down or up between units in a stay: which and where (u0), when (u1); occurrence = admission no.
    SETTLED_EXIT = 21  # how (u0) and when (u1) a settled placement ends; occurrence = placement number
    PARAMETERS = 22  # the posterior draw of a replication (u0; run.parameters); entity 0, occurrence 0


class EntityKind(enum.IntEnum):
    """Kind of entity (top bits of the entity id). Never renumber."""

    CENSUS = 1  # a person in the starting inpatient census
    ARRIVAL = 2  # a person created by an arrival during the run
    REGISTER = 3  # a person on the dynamic support register
    SOURCE = 4  # an arrival source (not a person)
    COMMUNITY = 5  # a person in a community placement at the start (the community cohort)


def check_seed(seed: int) -> int:
    """Return ``seed`` as an int, or raise ValueError unless it is an integer in [0, 2**32)."""
    try:
        value = operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}") from None
    if isinstance(seed, bool) or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return value


def entity(kind: int, index: int, number: int) -> int:
    """64-bit entity id: high 32 bits ``kind << 16 | index``, low 32 bits ``number``.

    ``index`` (< 2**16) is e.g. a TCP or source index, ``number`` (< 2**32) a
    census row or arrival number. Raises ValueError when out of range.
    """
    kind, index, number = (operator.index(v) for v in (kind, index, number))
    if not 0 <= kind < KIND_LIMIT:
        raise ValueError(f"entity kind must be in [0, 2**15), got {kind}")
    if not 0 <= index < INDEX_LIMIT:
        raise ValueError(f"entity index must be in [0, 2**16), got {index}")
    if not 0 <= number < NUMBER_LIMIT:
        raise ValueError(f"entity number must be in [0, 2**32), got {number}")
    return (((kind << 16) | index) << 32) | number


@jit
def entity_id(kind: int, index: int, number: int) -> np.int64:
    """Numba twin of :func:`entity` (same value, as int64; same range checks)."""
    if kind < 0 or kind >= KIND_LIMIT:
        raise ValueError("entity kind must be in [0, 2**15)")
    if index < 0 or index >= INDEX_LIMIT:
        raise ValueError("entity index must be in [0, 2**16)")
    if number < 0 or number >= NUMBER_LIMIT:
        raise ValueError("entity number must be in [0, 2**32)")
    return (np.int64(kind) << np.int64(48)) | (np.int64(index) << np.int64(32)) | np.int64(number)


@jit
def _to_unit(hi: np.uint32, lo: np.uint32) -> float:
    """53-bit double strictly inside (0, 1) from two 32-bit words."""
    k = (np.uint64(hi) >> _SHIFT5) * _TWO26 + (np.uint64(lo) >> _SHIFT6)
    return min((np.float64(k) + 0.5) * _TWO_M53, _ONE_MINUS_ULP)


@jit
def uniform_pair(seed: int, replication: int, stream: int, entity: int, occurrence: int) -> tuple[float, float]:
    """The two uniforms in (0, 1) at address (seed, replication, stream, entity, occurrence)."""
    e = np.uint64(entity)
    x0, x1, x2, x3 = philox4x32_10(
        np.uint64(occurrence) & _MASK32,
        e & _MASK32,
        (e >> _SHIFT32) & _MASK32,
        np.uint64(stream) & _MASK32,
        np.uint64(seed) & _MASK32,
        np.uint64(replication) & _MASK32,
    )
    return _to_unit(x0, x1), _to_unit(x2, x3)


@jit
def uniform_pairs(seed: int, replication: int, stream: int, entity: int, occurrences: np.ndarray) -> np.ndarray:
    """``float64[n, 2]``: :func:`uniform_pair` for each of ``occurrences``."""
    n = occurrences.shape[0]
    out = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        u0, u1 = uniform_pair(seed, replication, stream, entity, occurrences[i])
        out[i, 0] = u0
        out[i, 1] = u1
    return out


__all__ = [
    "Stream",
    "EntityKind",
    "check_seed",
    "entity",
    "entity_id",
    "uniform_pair",
    "uniform_pairs",
]
