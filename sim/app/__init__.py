"""The planners' web app (Streamlit): ``make app`` or ``python -m sim.app`` serves it on 127.0.0.1.

The Run page: an area and a scenario, the levers planners pull (pre-admission CTR coverage and avert
rate, crisis-support places, repatriation, the beds by unit type), replications, seed and years; Run
shows the fan chart against the plan, P(at or under) each milestone, the milestone chart and the key
figures. Every choice is a Hydra override, checked by the config's own validation (a refusal is shown
beside its field in the command line's one line), and the page gives the equivalent ``python -m sim``
command and the overrides as YAML. Results are cached by the resolved config; the engine is compiled
(or loaded from Numba's cache) once, when the app starts.

The page code is ``sim.app.page`` (functions; ``run_page``), what it offers and asks for ``sim.app.levers``
and what a run gives it ``sim.app.results``; ``sim/app/main.py`` is the script Streamlit runs. This
module imports nothing, so ``python -m sim.app`` starts the server at once.
"""
