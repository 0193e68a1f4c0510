"""Value checks shared by the builders: each returns the value in the form the spec holds, or raises
``ConfigError`` naming the key and what is wrong.

Kept in one place so that every key is checked the same way (a probability is in [0, 1], a count is a
whole number, a month is ``YYYY-MM``) and every message reads the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from sim.config.errors import ConfigError
from sim.config.schema import UNIT_TYPES, Config, TcpConfig


def parse_month(key: str, text: Any) -> date:
    """A ``YYYY-MM`` month as the date of its first day."""
    s = str(text).strip()
    try:
        y, m = s.split("-")
        if len(y) != 4 or len(m) != 2:
            raise ValueError
        return date(int(y), int(m), 1)
    except ValueError:
        raise ConfigError(key, f"'{s}' is not a month (YYYY-MM)") from None


def add_months(d: date, n: int) -> date:
    """The first day of the month n months after d's month."""
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_label(d: date) -> str:
    """A month as the ``YYYY-MM`` label configs and results use."""
    return f"{d.year:04d}-{d.month:02d}"


def probability(key: str, value: Any) -> float:
    """A number in [0, 1]."""
    v = number(key, value)
    if not 0.0 <= v <= 1.0:
        raise ConfigError(key, f"{v:g} is a probability and must be in [0, 1]")
    return v


def number(key: str, value: Any, *, minimum: float | None = None, strict: bool = False) -> float:
    """A finite float, optionally at least (or, if strict, above) ``minimum``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"'{value}' is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(key, f"{value} is not a finite number")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ConfigError(key, f"{v:g} must be {'above' if strict else 'at least'} {minimum:g}")
    return v


#: The largest whole number a config may give (counts of beds, people, units, replications): far above
#: any real one, and inside the engine's 64-bit integers.
MAX_INTEGER = 10**12


def integer(key: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number (not a bool, not a float that happens to be whole), optionally at least ``minimum``,
    and at most ``maximum`` (else ``MAX_INTEGER``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(key, f"'{value}' is not a whole number")
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"{value} must be at least {minimum}")
    top = MAX_INTEGER if maximum is None else maximum
    if value > top:
        raise ConfigError(key, f"{value} must be at most {top:,}")
    return int(value)


def flag(key: str, value: Any) -> bool:
    """A switch: true or false, nothing else (OmegaConf would read ``2`` or ``"yes"`` as true without a word)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ConfigError(key, f"'{value}' must be true or false")


def unit_index(key: str, unit: str) -> int:
    """A unit type's index in ``UNIT_TYPES``."""
    if unit not in UNIT_TYPES:
        raise ConfigError(key, f"unknown unit type '{unit}' (expected one of {', '.join(UNIT_TYPES)})")
    return UNIT_TYPES.index(unit)


def by_name(
    key: str,
    values: dict[str, Any],
    names: tuple[str, ...],
    what: str,
    check: Callable[[str, Any], float] | None = None,
) -> np.ndarray:
    """A dict keyed by known names (RAG ratings, unit types, placement types) as an array in their order;
    each value passes ``check`` (default: a number at least 0), names left out are 0."""
    out = np.zeros(len(names))
    for name, value in values.items():
        if name not in names:
            raise ConfigError(f"{key}.{name}", f"unknown {what} '{name}' (expected one of {', '.join(names)})")
        out[names.index(name)] = (check or (lambda k, v: number(k, v, minimum=0.0)))(f"{key}.{name}", value)
    return out


def shares(key: str, values: dict[str, Any], names: tuple[str, ...], what: str) -> np.ndarray:
    """Cumulative shares over ``names`` (probabilities summing to 1), for ``choice``."""
    p = by_name(key, values, names, what, probability)
    if abs(p.sum() - 1.0) > 1e-9:
        raise ConfigError(key, f"shares sum to {p.sum():g}, not 1")
    cum = np.cumsum(p)
    cum[-1] = 1.0
    return cum


def tcp_configs(cfg: Config) -> list[tuple[str, TcpConfig]]:
    """The config's TCPs with the key each is read under: ``system.tcps.<name>`` for a system that lists
    its own, else the one chosen as ``tcp``. Refuses both or neither, so no TCP is silently ignored."""
    if cfg.system.tcps:
        if cfg.tcp is not None:
            raise ConfigError("tcp", f"system '{cfg.system.name}' lists its own TCPs; do not also choose tcp=")
        return [(f"system.tcps.{name}", tcp) for name, tcp in cfg.system.tcps.items()]
    if cfg.tcp is None:
        raise ConfigError("tcp", "no TCP chosen (tcp=<name>) and the system lists none")
    return [("tcp", cfg.tcp)]
