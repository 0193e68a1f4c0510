"""The script Streamlit runs (``streamlit run sim/app/main.py``; ``python -m sim.app`` starts it): the
app's pages, after the engine's warm-up (compiled or loaded from Numba's cache once, when the app starts)."""

import streamlit as st

from sim.app.common import warm_engine
from sim.app.forecast_page import forecast_page
from sim.app.page import run_page
from sim.plots import files_only

files_only()  # the charts are drawn to PNG bytes: no screen backend in the server
st.set_page_config(page_title="tcp-sim", layout="wide")
warm_engine()
PAGES = [
    st.Page(run_page, title="Run", url_path="run", default=True),
    st.Page(forecast_page, title="Forecast", url_path="forecast"),
]
st.navigation(PAGES).run()
