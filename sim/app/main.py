"""The script Streamlit runs (``streamlit run sim/app/main.py``; ``python -m sim.app`` starts it): the
Run page of ``sim.app``."""

import streamlit as st

from sim.app.page import run_page
from sim.plots import files_only

files_only()  # the charts are drawn to PNG bytes: no screen backend in the server
st.set_page_config(page_title="tcp-sim", layout="wide")
run_page()
