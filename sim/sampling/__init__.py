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

from . import distributions, philox, samplers, streams  # noqa: F401 - the submodules, for sim.sampling.philox
from .distributions import *  # noqa: F401,F403
from .philox import philox4x32_10, philox4x32_10_array  # noqa: F401
from .samplers import *  # noqa: F401,F403
from .streams import *  # noqa: F401,F403

#: The public names are those each module declares.
__all__ = [*streams.__all__, "philox4x32_10", "philox4x32_10_array", *samplers.__all__, *distributions.__all__]
