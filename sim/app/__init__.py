"""The planners' web app (Streamlit): ``make app`` or ``python -m sim.app [--config-dir DIR]`` serves it
on 127.0.0.1.

Its pages: Run (an area and scenario, the levers, the fan chart against the plan, P(at or under) each
milestone, the milestone chart and the key figures), Compare (scenarios on common random numbers, their
paired differences and a plain-language reading), Capacity (a unit's capacity curve and the fewest beds
for a target out-of-area share), Money (spend by commissioner and setting; a pooled budget's reserve and
P(negative)) and Forecast (a calibrated area's forecast with parameter uncertainty and the recorded
figures). Every choice is a Hydra override, checked by the config's own validation (a refusal is shown
beside its field in the command line's one line); every page offers its charts (PNG, SVG), tables (CSV,
Excel), report where there is one, and the overrides as YAML with the equivalent command line.

Modules: ``main.py`` is the script Streamlit runs (the pages, the engine's warm-up, the sidebar's own
areas); ``common`` what the pages share (area and scenario boxes, progress with Cancel, download buttons,
the command line); ``page`` (Run), ``compare_page``, ``capacity_page``, ``money_page`` and
``forecast_page`` the pages; ``levers`` (what the Run page offers and asks for), ``results`` (a run for a
page, and the store of results shared by sessions), ``exports`` (the downloads' bytes) and ``upload`` (an
uploaded area's checks) hold no Streamlit code; ``areas_panel`` is the sidebar's upload. This module
imports nothing, so ``python -m sim.app`` starts the server at once.
"""
