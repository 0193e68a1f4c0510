"""The script Streamlit runs (``streamlit run sim/app/main.py [-- --config-dir DIR ...]``; ``python -m
sim.app`` starts it): the app's pages, after the engine's warm-up (compiled or loaded from Numba's cache
once, when the app starts), with the user's own areas (the server's ``--config-dir`` folders, a zip
uploaded in the sidebar) beside the shipped ones."""

import sys

import streamlit as st

from sim.app.__main__ import script_config_dirs
from sim.app.areas_panel import areas_panel, load_server_areas
from sim.app.capacity_page import capacity_page
from sim.app.common import warm_engine
from sim.app.compare_page import compare_page
from sim.app.forecast_page import forecast_page
from sim.app.money_page import money_page
from sim.app.page import run_page
from sim.plots import files_only

files_only()  # the charts are drawn to PNG bytes: no screen backend in the server
st.set_page_config(page_title="tcp-sim", layout="wide")
warm_engine()
load_server_areas(script_config_dirs(sys.argv[1:]), st.session_state)  # Streamlit hands over what follows --
areas_panel()  # the sidebar's own areas, before a page offers them

PAGES = [
    st.Page(run_page, title="Run", url_path="run", default=True),
    st.Page(compare_page, title="Compare", url_path="compare"),
    st.Page(capacity_page, title="Capacity", url_path="capacity"),
    st.Page(money_page, title="Money", url_path="money"),
    st.Page(forecast_page, title="Forecast", url_path="forecast"),
]
st.navigation(PAGES).run()
