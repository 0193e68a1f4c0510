"""tcp-sim: a Monte Carlo simulator of inpatient-to-community care pathways for people with a learning
disability and/or autism in England (Transforming Care).

Packages: ``config`` (schema, validation), ``sampling`` (counter-based random streams and samplers in
Numba), ``model`` (the SimPy reference model), ``runner`` (replications), ``results`` (metrics, bands),
``plots`` (figures). ``sim.api`` runs a config from Python; ``python -m sim`` from the shell.
"""

__version__ = "0.1.0"
