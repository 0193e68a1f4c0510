"""Random-number core of the simulator: counter-based streams and samplers.

Every uniform is addressed by (seed, replication, stream, entity, occurrence)
and computed by the Philox4x32-10 block cipher, instead of being drawn from a
stateful generator. Because nothing is consumed, a person's numbers do not
depend on what else happens in the run, so:

* the SimPy model and a compiled engine draw exactly the same numbers;
* scenarios share draws person by person (common random numbers), which
  makes differences between scenarios far less noisy;
* replications and streams are independent by construction and can be run
  in any order or in parallel.

Samplers turn uniforms into durations by inverse CDF (monotone, so common
random numbers carry through); distributions pack into float64 arrays so
compiled code can use any family, and ``residual`` draws the remaining stay of
people already in hospital at the start of a run.
"""

from .distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Lognormal,
    Mixture,
    Uniform,
    Weibull,
)
from .philox import philox4x32_10, philox4x32_10_array
from .samplers import (
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    LOGNORMAL,
    UNIFORM,
    WEIBULL,
    cdf,
    choice,
    empirical,
    exponential,
    lognormal,
    ndtr,
    ndtri,
    packed_mean,
    residual,
    residual_array,
    sample,
    sample_array,
    survival,
    uniform,
    weibull,
)
from .streams import EntityKind, Stream, check_seed, entity, entity_id, uniform_pair, uniform_pairs

__all__ = [
    # streams
    "Stream",
    "EntityKind",
    "check_seed",
    "entity",
    "entity_id",
    "uniform_pair",
    "uniform_pairs",
    # cipher
    "philox4x32_10",
    "philox4x32_10_array",
    # samplers
    "ndtr",
    "ndtri",
    "exponential",
    "lognormal",
    "weibull",
    "uniform",
    "choice",
    "empirical",
    # packed distributions
    "EXPONENTIAL",
    "LOGNORMAL",
    "WEIBULL",
    "UNIFORM",
    "FIXED",
    "EMPIRICAL",
    "sample",
    "survival",
    "cdf",
    "residual",
    "packed_mean",
    "sample_array",
    "residual_array",
    # distribution objects
    "Distribution",
    "Exponential",
    "Lognormal",
    "Weibull",
    "Uniform",
    "Fixed",
    "Empirical",
    "Mixture",
]
