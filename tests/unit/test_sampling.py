"""Tests of sim.sampling: Philox, addressable streams, samplers and distributions."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.special
import scipy.stats

from sim.sampling import (
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    LOGNORMAL,
    UNIFORM,
    WEIBULL,
    Distribution,
    Empirical,
    EntityKind,
    Exponential,
    Fixed,
    Lognormal,
    Mixture,
    Stream,
    Uniform,
    Weibull,
    cdf,
    check_seed,
    choice,
    empirical,
    entity,
    entity_id,
    exponential,
    lognormal,
    ndtr,
    ndtri,
    packed_mean,
    philox4x32_10,
    philox4x32_10_array,
    residual,
    residual_array,
    sample,
    sample_array,
    survival,
    uniform,
    uniform_pair,
    uniform_pairs,
    weibull,
)
from sim.sampling.streams import _to_unit

SEED = 20240917
N = 20_000

# The heavy-tailed length-of-stay mixture from the brief (years).
HEAVY = Mixture((0.7, 0.3), (Lognormal(0.25, 0.2), Lognormal(4.0, 5.0)))

FAMILIES: dict[str, Distribution] = {
    "exponential": Exponential(2.0),
    "lognormal": Lognormal(2.0, 1.5),
    "weibull": Weibull(0.8, 3.0),
    "uniform": Uniform(1.0, 10.0),
    "fixed": Fixed(5.0),
    "empirical": Empirical((0.0, 1.0, 2.0, 5.0, 12.0), (0.0, 0.3, 0.5, 0.8, 1.0)),
    "heavy_mixture": HEAVY,
    "mixed_mixture": Mixture((0.4, 0.6), (Exponential(1.0), Weibull(2.0, 5.0))),
}


def _u(n: int, stream: int = Stream.LOS, ent: int = 7, seed: int = SEED, rep: int = 0) -> np.ndarray:
    """n uniform pairs at consecutive occurrences of one address."""
    return uniform_pairs(seed, rep, int(stream), ent, np.arange(n, dtype=np.int64))


def _raw_moments(dist: Distribution) -> list[float]:
    """Raw moments E[T^k], k = 1..4, from scipy (mixtures: weighted over components)."""
    if isinstance(dist, Mixture):
        return [math.fsum(w * c.scipy().moment(k) for w, c in zip(dist.weights, dist.components)) for k in range(1, 5)]
    frozen = dist.scipy()
    return [float(frozen.moment(k)) for k in range(1, 5)]


def _cdf_callable(dist: Distribution):
    """Reference CDF built from scipy (mixtures: weighted over components)."""
    if isinstance(dist, Mixture):
        parts = [(w, c.scipy()) for w, c in zip(dist.weights, dist.components)]
        return lambda t: sum(w * f.cdf(t) for w, f in parts)
    if isinstance(dist, Empirical):
        x, c = np.array(dist.x), np.array(dist.cdf)
        return lambda t: np.interp(t, x, c)
    return dist.scipy().cdf


def _assert_moments(x: np.ndarray, raw: list[float], k: float = 5.0) -> None:
    """Sample mean and variance within k standard errors of the theoretical ones."""
    m1, m2, m3, m4 = raw
    n = len(x)
    var = m2 - m1**2
    mu4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    assert abs(x.mean() - m1) < k * math.sqrt(var / n), (x.mean(), m1)
    assert abs(x.var(ddof=1) - var) < k * math.sqrt((mu4 - var**2) / n), (x.var(ddof=1), var)


def _chi2_2d_p(a: np.ndarray, b: np.ndarray, bins: int = 10) -> float:
    """p-value of a chi-square test that (a, b) is uniform on the unit square."""
    h, _, _ = np.histogram2d(a, b, bins=bins, range=[[0.0, 1.0], [0.0, 1.0]])
    expected = len(a) / bins**2
    stat = float(((h - expected) ** 2 / expected).sum())
    return float(scipy.stats.chi2.sf(stat, bins * bins - 1))


# --------------------------------------------------------------------------- Philox

# Source: Random123 (D. E. Shaw Research) tests/kat_vectors, rows "philox4x32 10":
# counter[4] key[2] -> expected[4].
PHILOX_KAT = [
    (
        (0x00000000, 0x00000000, 0x00000000, 0x00000000),
        (0x00000000, 0x00000000),
        (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8),
    ),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr,key,expected", PHILOX_KAT, ids=["zeros", "ones", "pi"])
def test_philox_known_answer_vectors(ctr, key, expected):
    """Philox4x32-10 reproduces Random123's published known-answer vectors, whether called
    with Python ints, np.uint32 scalars or uint32 arrays."""
    assert tuple(int(v) for v in philox4x32_10(*ctr, *key)) == expected
    words = philox4x32_10(*(np.uint32(v) for v in ctr), *(np.uint32(v) for v in key))
    assert tuple(int(v) for v in words) == expected
    # Numba boxes uint32 to int, so check the compiled return type: no float64/int64 leaks.
    assert all(str(sig.return_type) == "UniTuple(uint32 x 4)" for sig in philox4x32_10.nopython_signatures)
    out = philox4x32_10_array(np.array(ctr, dtype=np.uint32), np.array(key, dtype=np.uint32))
    assert out.dtype == np.uint32
    assert tuple(int(v) for v in out) == expected


def test_philox_matches_randomgen():
    """Optional cross-check: Philox4x32-10 equals randomgen's implementation on random inputs
    (randomgen increments its counter before each block, hence the - 1)."""
    randomgen = pytest.importorskip("randomgen")
    rng = np.random.default_rng(1)
    for _ in range(200):
        ctr = [int(v) for v in rng.integers(0, 2**32, size=4)]
        key = [int(v) for v in rng.integers(0, 2**32, size=2)]
        c = sum(v << (32 * i) for i, v in enumerate(ctr))
        k = key[0] | (key[1] << 32)
        bg = randomgen.Philox(counter=(c - 1) % 2**128, key=k, number=4, width=32)
        expected = tuple(int(v) for v in bg.random_raw(4))
        assert tuple(int(v) for v in philox4x32_10(*ctr, *key)) == expected


# --------------------------------------------------------------------------- addressing


def test_stream_and_entity_kind_numbers_are_fixed():
    """Stream and entity-kind numbers are part of the random-number address and must never change."""
    assert {s.name: int(s) for s in Stream} == {
        "ARRIVAL": 1,
        "ROUTE": 2,
        "LOS": 3,
        "CENSUS_RESIDUAL": 4,
        "REGISTER_JOIN": 5,
        "REGISTER_RAG": 6,
        "REGISTER_LEAVE": 7,
        "CRISIS": 8,
        "CTR": 9,
        "AVERT": 10,
        "CRISIS_SUPPORT_LOS": 11,
        "INPATIENT_CTR": 12,
        "DISCHARGE_DELAY": 13,
        "PLACEMENT": 14,
        "BREAKDOWN": 15,
        "DEATH": 16,
        "PERSON": 17,
        "RETURN_HOME": 18,
        "TRANSFER": 19,
        "STEP": 20,
        "SETTLED_EXIT": 21,
        "PARAMETERS": 22,
    }
    assert {k.name: int(k) for k in EntityKind} == {
        "CENSUS": 1,
        "ARRIVAL": 2,
        "REGISTER": 3,
        "SOURCE": 4,
        "COMMUNITY": 5,
    }


def test_entity_id_layout_and_numba_twin():
    """Entity ids put kind << 16 | index in the high 32 bits and number in the low 32 bits,
    and the Numba twin returns the same value."""
    assert entity(EntityKind.CENSUS, 3, 17) == ((1 << 16 | 3) << 32) | 17
    for args in [(0, 0, 0), (1, 3, 17), (4, 65535, 2**32 - 1), (2**15 - 1, 65535, 2**32 - 1)]:
        assert entity_id(*args) == entity(*args)
    assert entity(2**15 - 1, 65535, 2**32 - 1) == 2**63 - 1  # still a non-negative int64


@pytest.mark.parametrize("args", [(-1, 0, 0), (2**15, 0, 0), (1, -1, 0), (1, 2**16, 0), (1, 0, -1), (1, 0, 2**32)])
def test_entity_out_of_range_raises(args):
    """Out-of-range kind, index or number is rejected rather than silently aliased to another entity."""
    with pytest.raises(ValueError):
        entity(*args)
    with pytest.raises(ValueError):
        entity_id(*args)


def test_check_seed():
    """Seeds must be integers in [0, 2**32): the key holds 32 bits and a wider seed would alias."""
    assert check_seed(0) == 0
    assert check_seed(2**32 - 1) == 2**32 - 1
    assert check_seed(np.uint32(7)) == 7
    for bad in (-1, 2**32, 1.5, "3", None, True):
        with pytest.raises(ValueError):
            check_seed(bad)


def test_to_unit_extremes_strictly_inside_unit_interval():
    """The 53-bit conversion never returns 0 or 1, even for all-zero or all-one words."""
    assert _to_unit(np.uint32(0), np.uint32(0)) == 2.0**-54
    top = _to_unit(np.uint32(0xFFFFFFFF), np.uint32(0xFFFFFFFF))
    assert top < 1.0 and top == np.nextafter(1.0, 0.0)


def test_uniform_pair_follows_documented_layout():
    """uniform_pair is Philox of key (seed, replication) and counter (occurrence, entity lo,
    entity hi, stream), converted with 53-bit midpoints: the layout other engines rely on."""
    seed, rep, stream, occ = 123456789, 42, int(Stream.CENSUS_RESIDUAL), 9
    ent = entity(EntityKind.ARRIVAL, 5, 1234)
    x = [int(v) for v in philox4x32_10(occ, ent & 0xFFFFFFFF, ent >> 32, stream, seed, rep)]
    expect = tuple((((a >> 5) * 2**26 + (b >> 6)) + 0.5) * 2.0**-53 for a, b in ((x[0], x[1]), (x[2], x[3])))
    assert uniform_pair(seed, rep, stream, ent, occ) == expect
    assert uniform_pair(seed, rep, Stream.CENSUS_RESIDUAL, ent, occ) == expect


def test_uniform_pair_deterministic_and_address_sensitive():
    """The same address always gives the same pair (scalar and vector forms agree bit for bit),
    and changing any one address component changes it."""
    ent = entity(EntityKind.CENSUS, 2, 99)
    base = (SEED, 3, int(Stream.LOS), ent, 5)
    first = uniform_pair(*base)
    assert uniform_pair(*base) == first
    vec = uniform_pairs(SEED, 3, int(Stream.LOS), ent, np.array([4, 5, 6], dtype=np.int64))
    assert tuple(vec[1]) == first
    for i in range(5):
        changed = list(base)
        changed[i] += 1
        assert uniform_pair(*changed) != first


def test_uniform_pairs_distribution():
    """200k uniforms are inside (0, 1) with mean 1/2 and variance 1/12 (within 5 SE) and pass a KS test."""
    u = _u(100_000).ravel()
    n = len(u)
    assert u.min() > 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt((1 / 80 - 1 / 144) / n)
    assert scipy.stats.kstest(u, "uniform").pvalue > 1e-3


def _draws(addresses) -> np.ndarray:
    return np.array([uniform_pair(*a)[0] for a in addresses])


_E = entity(EntityKind.CENSUS, 0, 0)
INDEPENDENCE_CASES = {
    "streams": lambda i: ((SEED, 0, 3, _E, i), (SEED, 0, 4, _E, i)),
    "entity_numbers": lambda i: ((SEED, 0, 3, entity(1, 0, i), 0), (SEED, 0, 3, entity(1, 0, i + 1), 0)),
    "entity_indices": lambda i: ((SEED, 0, 3, entity(1, 0, i), 0), (SEED, 0, 3, entity(1, 1, i), 0)),
    "entity_kinds": lambda i: ((SEED, 0, 3, entity(1, 0, i), 0), (SEED, 0, 3, entity(2, 0, i), 0)),
    "replications": lambda i: ((SEED, 0, 3, _E, i), (SEED, 1, 3, _E, i)),
    "seeds": lambda i: ((SEED, 0, 3, _E, i), (SEED + 1, 0, 3, _E, i)),
    "occurrences": lambda i: ((SEED, 0, 3, _E, i), (SEED, 0, 3, _E, i + 1)),
}


@pytest.mark.parametrize("case", list(INDEPENDENCE_CASES))
def test_streams_are_independent(case):
    """Uniforms at addresses differing in one component (stream, entity, replication, seed,
    occurrence) are uncorrelated and jointly uniform on the unit square."""
    n = N
    pairs = [INDEPENDENCE_CASES[case](i) for i in range(n)]
    a = _draws(p[0] for p in pairs)
    b = _draws(p[1] for p in pairs)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(n)
    assert _chi2_2d_p(a, b) > 1e-4


def test_pair_members_are_independent():
    """The two uniforms of one pair (component choice and value) are uncorrelated and jointly uniform."""
    u = _u(N)
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 4 / math.sqrt(N)
    assert _chi2_2d_p(u[:, 0], u[:, 1]) > 1e-4


def test_compiled_engine_matches_python_side():
    """A Numba-compiled loop using entity_id, uniform_pair and sample draws exactly the same
    values as the Python side (entity, uniform_pair, Distribution.sample)."""
    dist = HEAVY
    packed = dist.pack()

    @numba.njit
    def engine(seed: int, rep: int, n: int, packed: np.ndarray) -> np.ndarray:
        out = np.empty(n)
        for i in range(n):
            u0, u1 = uniform_pair(seed, rep, 3, entity_id(2, 1, i), 0)
            out[i] = sample(packed, u0, u1)
        return out

    compiled = engine(SEED, 4, 500, packed)
    python = [dist.sample(*uniform_pair(SEED, 4, Stream.LOS, entity(EntityKind.ARRIVAL, 1, i), 0)) for i in range(500)]
    assert compiled.tolist() == python


# --------------------------------------------------------------------------- normal


def test_ndtri_matches_scipy_including_tails():
    """ndtri agrees with scipy.special.ndtri to 4e-15 relative over [1e-300, 1 - 1e-16], tails included."""
    p = np.concatenate(
        [
            np.logspace(-300, -1, 600),
            np.linspace(0.001, 0.999, 999),
            1.0 - np.logspace(-16, -1, 200),
            [1e-300, 1e-10, 0.02425, 0.25, 0.5, 0.5 + 1e-12, 0.5 - 1e-10, 0.75, 0.97575, 1 - 1e-10, 1 - 1e-16],
        ]
    )
    mine = np.array([ndtri(v) for v in p])
    ref = scipy.special.ndtri(p)
    np.testing.assert_allclose(mine, ref, rtol=4e-15, atol=0)
    assert ndtri(0.5) == 0.0
    assert ndtri(0.0) == -math.inf and ndtri(1.0) == math.inf
    assert math.isnan(ndtri(-0.1)) and math.isnan(ndtri(1.1)) and math.isnan(ndtri(math.nan))


def test_ndtr_matches_scipy():
    """ndtr agrees with scipy.special.ndtr, including the far lower tail used for survival."""
    x = np.concatenate([np.linspace(-37.5, 8.0, 2000), [0.0, -1e-12, 1e-12]])
    # rtol 1e-12: in the far tail rounding x / sqrt(2) alone costs ~2x^2 ulps in any implementation.
    np.testing.assert_allclose([ndtr(v) for v in x], scipy.special.ndtr(x), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- samplers


def test_inverse_cdfs_match_scipy_ppf():
    """The scalar samplers are exactly the inverse CDFs (scipy ppf) of their distributions."""
    u = np.concatenate([_u(500).ravel(), [1e-12, 0.5, 1 - 1e-12]])
    sigma = math.sqrt(math.log1p((1.5 / 2.0) ** 2))
    mu = math.log(2.0) - sigma**2 / 2
    checks = [
        (lambda v: exponential(v, 2.0), scipy.stats.expon(scale=2.0)),
        (lambda v: lognormal(v, 2.0, 1.5), scipy.stats.lognorm(s=sigma, scale=math.exp(mu))),
        (lambda v: weibull(v, 0.8, 3.0), scipy.stats.weibull_min(0.8, scale=3.0)),
        (lambda v: uniform(v, 1.0, 4.0), scipy.stats.uniform(1.0, 3.0)),
    ]
    for f, ref in checks:
        np.testing.assert_allclose([f(v) for v in u], ref.ppf(u), rtol=1e-12)
    x = np.array([0.0, 1.0, 2.0, 5.0, 12.0])
    c = np.array([0.0, 0.3, 0.5, 0.8, 1.0])
    np.testing.assert_allclose([empirical(v, x, c) for v in u], np.interp(u, c, x), rtol=1e-12)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_sample_matches_scipy_distribution(name):
    """Packed sampling of each family (incl. mixtures) passes a KS test against the reference CDF
    and has the right mean and variance (within 5 standard errors)."""
    dist = FAMILIES[name]
    u = _u(N, ent=entity(EntityKind.CENSUS, 1, 11))
    x = sample_array(dist.pack(), u)
    if isinstance(dist, Fixed):
        assert np.all(x == dist.value)
        return
    assert scipy.stats.kstest(x, _cdf_callable(dist)).pvalue > 1e-3
    _assert_moments(x, _raw_moments(dist))
    assert dist.sample(*u[0]) == x[0] == sample(dist.pack(), u[0, 0], u[0, 1])


def test_single_distribution_ignores_u0_and_is_monotone_in_u1():
    """For k == 1 the value depends only on u1, and every family is non-decreasing in u1
    (so common random numbers give ordered draws across scenarios)."""
    u1 = np.sort(_u(2000)[:, 1])
    for dist in FAMILIES.values():
        packed = dist.pack()
        if not isinstance(dist, Mixture):
            assert sample(packed, 0.01, 0.3) == sample(packed, 0.99, 0.3)
            values = np.array([sample(packed, 0.5, v) for v in u1])
            assert np.all(np.diff(values) >= 0)


def test_choice_frequencies():
    """choice returns the first index whose cumulative probability exceeds u, with the right frequencies."""
    cum = np.array([0.1, 0.35, 0.85, 1.0])
    assert choice(0.05, cum) == 0 and choice(0.1, cum) == 1 and choice(0.9999, cum) == 3
    assert choice(1.0, cum) == 3
    u = _u(N, stream=Stream.ROUTE)[:, 0]
    counts = np.bincount([choice(v, cum) for v in u], minlength=4)
    expected = np.diff(np.concatenate([[0.0], cum])) * N
    assert scipy.stats.chisquare(counts, expected).pvalue > 1e-3


def test_survival_and_cdf_match_scipy():
    """survival and cdf agree with scipy (sf, cdf) for every family, including far in the heavy tail."""
    t = np.array([0.0, 0.01, 0.3, 1.0, 2.5, 4.0, 8.0, 11.0, 30.0, 200.0])
    for dist in FAMILIES.values():
        packed = dist.pack()
        if isinstance(dist, Fixed):
            assert [survival(packed, v) for v in t] == [1.0 if v < dist.value else 0.0 for v in t]
            continue
        ref_cdf = np.asarray([_cdf_callable(dist)(v) for v in t], dtype=float)
        if isinstance(dist, Mixture):
            ref_sf = np.array([sum(w * c.scipy().sf(v) for w, c in zip(dist.weights, dist.components)) for v in t])
        elif isinstance(dist, Empirical):
            ref_sf = 1.0 - ref_cdf
        else:
            ref_sf = dist.scipy().sf(t)
        np.testing.assert_allclose([cdf(packed, v) for v in t], ref_cdf, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([survival(packed, v) for v in t], ref_sf, rtol=1e-10, atol=1e-300)
        assert dist.survival(2.5) == survival(packed, 2.5)


# --------------------------------------------------------------------------- residual


@pytest.mark.parametrize("elapsed", [0.5, 3.0, 8.0])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_residual_matches_rejection_sampling(name, elapsed):
    """The remaining time drawn by residual() has the same distribution as T - elapsed for
    T ~ sample() kept only when T > elapsed (two-sample KS and means within 5 SE)."""
    dist = FAMILIES[name]
    packed = dist.pack()
    s = dist.survival(elapsed)
    if s == 0.0:
        assert residual(packed, elapsed, 0.3, 0.7) == 0.0
        return
    n_total = min(int(math.ceil(6000 / s)), 800_000)
    t = sample_array(packed, _u(n_total, stream=Stream.LOS, ent=entity(EntityKind.CENSUS, 2, 0)))
    ref = t[t > elapsed] - elapsed
    u = _u(6000, stream=Stream.CENSUS_RESIDUAL, ent=entity(EntityKind.CENSUS, 3, 0))
    got = residual_array(packed, np.full(len(u), elapsed), u)
    assert got.min() >= 0.0
    assert len(ref) > 3000
    if isinstance(dist, Fixed):
        assert np.all(got == dist.value - elapsed) and np.all(ref == dist.value - elapsed)
        return
    assert scipy.stats.ks_2samp(ref, got).pvalue > 1e-3
    se = math.sqrt(ref.var() / len(ref) + got.var() / len(got))
    assert abs(ref.mean() - got.mean()) < 5 * se


def test_residual_at_zero_equals_sample():
    """With nothing elapsed the residual is an ordinary draw: residual(0) == sample to rtol 1e-9."""
    u = _u(3000, stream=Stream.CENSUS_RESIDUAL)
    for dist in FAMILIES.values():
        packed = dist.pack()
        np.testing.assert_allclose(residual_array(packed, np.zeros(len(u)), u), sample_array(packed, u), rtol=1e-9)
        assert dist.residual(0.0, *u[0]) == residual(packed, 0.0, u[0, 0], u[0, 1])


def test_exponential_residual_is_memoryless():
    """For the exponential, the remaining time does not depend on elapsed time (same draw for same u)."""
    packed = Exponential(2.0).pack()
    for u0, u1 in _u(100):
        fresh = sample(packed, u0, u1)
        for e in (0.5, 3.0, 8.0, 1e6):
            assert residual(packed, e, u0, u1) == fresh


def test_residual_beyond_bounded_support_is_zero():
    """Someone already past the maximum of a bounded stay is ready now (residual 0), and a mixture
    conditions on the components that can still be running."""
    for dist, e in [
        (Uniform(1.0, 4.0), 4.0),
        (Uniform(1.0, 4.0), 9.0),
        (Fixed(2.0), 2.0),
        (Fixed(2.0), 3.0),
        (FAMILIES["empirical"], 12.0),
        (Mixture((0.5, 0.5), (Fixed(1.0), Uniform(0.0, 2.0))), 2.5),
    ]:
        assert dist.survival(e) == 0.0
        assert dist.residual(e, 0.3, 0.6) == 0.0
    bounded_or_not = Mixture((0.9, 0.1), (Uniform(0.0, 1.0), Exponential(1.0)))
    for u0 in (0.01, 0.5, 0.99):
        assert bounded_or_not.residual(2.0, u0, 0.6) == exponential(0.6, 1.0)


def test_residual_heavy_tail_precision():
    """Far in a lognormal tail the residual matches scipy's isf(sf(elapsed) * (1 - u)) - elapsed
    to 1e-9, i.e. it does not lose precision by working with 1 - F."""
    dist = Lognormal(1.0, 5.0)
    ref = dist.scipy()
    for e in (3.0, 50.0, 1e4):
        for u1 in (0.01, 0.3, 0.9, 1 - 1e-9):
            expected = ref.isf(ref.sf(e) * (1.0 - u1)) - e
            assert dist.residual(e, 0.5, u1) == pytest.approx(expected, rel=1e-9)


def test_residual_survives_underflow_of_survival():
    """When every component's survival underflows to 0, residual still conditions correctly
    (in log space) instead of reporting "ready now": the longest component dominates, the
    exponential stays memoryless and a lognormal tail gives a finite, monotone remaining time."""
    two_exps = Mixture((0.5, 0.5), (Exponential(1.0), Exponential(10.0)))
    assert two_exps.survival(1e4) == 0.0
    for u0 in (0.01, 0.5, 0.99):
        assert two_exps.residual(1e4, u0, 0.6) == exponential(0.6, 10.0)
    far = Lognormal(1.0, 0.5)
    assert far.survival(1e9) == 0.0
    rest = [far.residual(1e9, 0.5, u1) for u1 in (0.1, 0.5, 0.9)]
    assert all(math.isfinite(r) and r > 0.0 for r in rest) and rest == sorted(rest)
    assert rest[-1] < 1e9  # the hazard grows with log t, so the excess is a fraction of elapsed


def test_residual_rejects_negative_elapsed():
    """A negative elapsed time is a caller error, not something to sample from."""
    with pytest.raises(ValueError):
        residual(Exponential(1.0).pack(), -1.0, 0.5, 0.5)


# --------------------------------------------------------------------------- distributions


@pytest.mark.parametrize("name", list(FAMILIES))
def test_scale_multiplies_mean(name):
    """.scale(factor) converts time units: the mean scales by the factor and the analytic
    mean agrees with the packed mean."""
    dist = FAMILIES[name]
    scaled = dist.scale(365.25)
    assert type(scaled) is type(dist)
    assert scaled.mean == pytest.approx(365.25 * dist.mean, rel=1e-12)
    assert packed_mean(dist.pack()) == pytest.approx(dist.mean, rel=1e-12)
    assert packed_mean(scaled.pack()) == pytest.approx(scaled.mean, rel=1e-12)
    if not isinstance(dist, (Fixed, Mixture)):
        assert dist.mean == pytest.approx(dist.scipy().mean(), rel=1e-9)
    with pytest.raises(ValueError, match="scale factor"):
        dist.scale(0.0)


def test_pack_layout():
    """Packing follows [k, (weight, family, nparams, params...) * k]; nested mixtures flatten
    with multiplied weights; pack() returns a fresh copy each time."""
    assert Exponential(2.0).pack().tolist() == [1, 1, EXPONENTIAL, 1, 2.0]
    d = Lognormal(1.0, 2.0)
    assert d.pack().tolist() == [1, 1, LOGNORMAL, 4, 1.0, 2.0, d.mu, d.sigma]
    assert Weibull(1.5, 3.0).pack().tolist() == [1, 1, WEIBULL, 2, 1.5, 3.0]
    assert Uniform(1.0, 2.0).pack().tolist() == [1, 1, UNIFORM, 2, 1.0, 2.0]
    assert Fixed(4.0).pack().tolist() == [1, 1, FIXED, 1, 4.0]
    assert Empirical((0, 1), (0, 1)).pack().tolist() == [1, 1, EMPIRICAL, 5, 2, 0, 1, 0, 1]
    nested = Mixture((0.5, 0.5), (Fixed(1.0), Mixture((0.4, 0.6), (Fixed(2.0), Exponential(3.0)))))
    assert nested.pack().tolist() == [3, 0.5, FIXED, 1, 1.0, 0.2, FIXED, 1, 2.0, 0.3, EXPONENTIAL, 1, 3.0]
    p = nested.pack()
    p[0] = 99.0
    assert nested.pack()[0] == 3.0


def test_repr_is_readable_and_round_trips():
    """repr shows the constructor call, and evaluating it rebuilds an equal distribution."""
    assert repr(Lognormal(0.25, 0.2)) == "Lognormal(mean=0.25, sd=0.2)"
    assert repr(Weibull(1.5, 2)) == "Weibull(shape=1.5, scale=2.0)"
    for dist in FAMILIES.values():
        assert eval(repr(dist)) == dist  # noqa: S307 - trusted test input


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: Exponential(0.0), "exponential mean must be > 0"),
        (lambda: Exponential(math.inf), "exponential mean must be finite"),
        (lambda: Lognormal(1.0, 0.0), "lognormal sd must be > 0"),
        (lambda: Lognormal(-1.0, 1.0), "lognormal mean must be > 0"),
        (lambda: Weibull(0.0, 1.0), "weibull shape must be > 0"),
        (lambda: Weibull(1.0, -1.0), "weibull scale must be > 0"),
        (lambda: Uniform(2.0, 1.0), "uniform high must be > low"),
        (lambda: Uniform(-1.0, 1.0), "uniform low must be >= 0"),
        (lambda: Fixed(-1.0), "fixed value must be >= 0"),
        (lambda: Empirical((0.0, 1.0), (0.0, 0.5)), "empirical cdf must run from 0 to 1"),
        (lambda: Empirical((1.0, 0.0), (0.0, 1.0)), "empirical x must be strictly increasing"),
        (lambda: Empirical((0.0, 1.0, 2.0), (0.0, 0.6, 0.5, 1.0)), "same length"),
        (lambda: Empirical((0.0, 1.0, 2.0), (0.1, 0.6, 1.0)), "empirical cdf must run from 0 to 1"),
        (lambda: Empirical((0.0, 1.0, 2.0, 3.0), (0.0, 0.7, 0.6, 1.0)), "non-decreasing"),
        (lambda: Mixture((0.5, 0.4), (Fixed(1.0), Fixed(2.0))), "mixture weights must sum to 1"),
        (lambda: Mixture((1.5, -0.5), (Fixed(1.0), Fixed(2.0))), "mixture weights must be >= 0"),
        (lambda: Mixture((1.0,), (Fixed(1.0), Fixed(2.0))), "1 weights but 2 components"),
        (lambda: Mixture((1.0,), (3.0,)), "must be a Distribution"),
    ],
)
def test_invalid_parameters_raise_clear_errors(make, message):
    """Invalid parameters are rejected at construction with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        make()


def test_distributions_are_immutable_and_hashable():
    """Distributions are frozen value objects: equal parameters compare and hash equal."""
    a, b = Lognormal(1.0, 2.0), Lognormal(1, 2)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.mean = 3.0  # type: ignore[misc]


def test_scipy_equivalents():
    """scipy() returns the matching frozen scipy.stats distribution (same mean) where one exists."""
    assert Empirical((0.0, 1.0, 3.0), (0.0, 0.5, 1.0)).scipy().mean() == pytest.approx(1.25)
    assert Lognormal(4.0, 5.0).scipy().std() == pytest.approx(5.0)
    with pytest.raises(NotImplementedError):
        Fixed(1.0).scipy()
    with pytest.raises(NotImplementedError):
        HEAVY.scipy()
