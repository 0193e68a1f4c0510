"""The app in a real browser: ``python -m sim.app`` served on 127.0.0.1, Debian's headless Chromium driven
by Selenium through Debian's chromedriver. It loads the Run page, sets a small run through the widgets,
clicks Run and waits for the fan chart, then saves a screenshot (``TCP_SIM_SCREENSHOT=<path>`` copies it
there too: docs/app_run.png is made so).

No browser is ever downloaded: Selenium is given the driver's path, so Selenium Manager is not run.
Without Chromium, chromedriver or Selenium the test skips, unless ``TCP_SIM_REQUIRE_BROWSER=1`` (.ci/run
sets it after installing the packages): then it fails, so CI cannot pass with the test skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

#: The repository whose app is served (this checkout, whatever the venv's editable install points at).
ROOT = Path(__file__).resolve().parents[2]
#: Seconds the server may take to answer its health check (a cold first start imports Streamlit and more).
START_TIMEOUT = 120
#: Seconds the page may take to show its widgets (the engine's warm-up: ~20 s cold on 2 cores, when
#: Numba's cache is empty) and then a run's fan chart.
#: Generous: make test runs it beside the rest of the suite on every core.
PAGE_TIMEOUT = 300
RUN_TIMEOUT = 180
#: The run the test asks for through the widgets: small, so it takes seconds.
REPLICATIONS = 50
YEARS = 1
#: The fan chart's caption (sim.app.results.CHARTS["fan_inpatients"]).
FAN_CAPTION = "Inpatients against the plan"


def unavailable(reason: str) -> NoReturn:
    """Skip for lack of a browser, or fail when CI requires one (``TCP_SIM_REQUIRE_BROWSER=1``)."""
    if os.environ.get("TCP_SIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TCP_SIM_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A port free on 127.0.0.1 now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """The app being served: its address and its output so far (stdout and stderr, in one file)."""

    url: str
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def healthy(url: str) -> bool:
    """Whether Streamlit's health endpoint answers "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            return bool(response.status == 200 and response.read().strip() == b"ok")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop the server by its own PID: terminate, wait, then kill."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """``python -m sim.app`` on a free port of 127.0.0.1, once its health check answers; stopped after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"the app exited ({proc.returncode}) before serving:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"no health answer from {url} in {START_TIMEOUT} s:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield Server(url, port, log)
    finally:
        stop(proc)


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless Chromium from Debian through Debian's chromedriver (paths given: Selenium Manager not run)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("Selenium is not installed (pip install -e '.[dev]')")
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(browser).is_file() and Path(chromedriver).is_file()):
        unavailable("Chromium or chromedriver is missing (Debian: apt-get install chromium chromium-driver)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # should Selenium Manager ever be reached, it may not download
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,2000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(arg)
    service = Service(executable_path=chromedriver, log_output=str(tmp_path / "chromedriver.log"))
    drv = webdriver.Chrome(options=options, service=service)
    try:
        yield drv
    finally:
        drv.quit()


def set_number(drv: Any, label: str, value: float) -> None:
    """Type ``value`` into the number input labelled ``label`` and commit it (Enter), as a user would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = drv.find_element(By.CSS_SELECTOR, f'[data-testid="stNumberInput"] input[aria-label="{label}"]')
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(str(value), Keys.ENTER)


@pytest.mark.parametrize("required", [False, True])
def test_no_browser_skips_unless_required(monkeypatch: pytest.MonkeyPatch, required: bool) -> None:
    """Without a browser the test skips, but fails when CI requires it (TCP_SIM_REQUIRE_BROWSER=1)."""
    if required:
        monkeypatch.setenv("TCP_SIM_REQUIRE_BROWSER", "1")
    else:
        monkeypatch.delenv("TCP_SIM_REQUIRE_BROWSER", raising=False)
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="Chromium is missing"):
        unavailable("Chromium is missing")


@pytest.mark.slow
def test_run_page_in_chromium(driver: Any, server: Server, tmp_path: Path) -> None:
    """The Run page loads, a 50-replication one-year run started from its widgets draws the fan chart
    (a loaded image), the milestones and key figures, with no error or traceback shown."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def fail(what: str) -> NoReturn:
        (tmp_path / "page.html").write_text(driver.page_source)
        driver.save_screenshot(str(tmp_path / "failed.png"))
        pytest.fail(f"{what} (page, screenshot and logs in {tmp_path})\nserver output:\n{server.output()}")

    first_line = server.output().splitlines()[0] if server.output() else ""
    assert first_line.startswith(f"tcp-sim app: http://127.0.0.1:{server.port}"), first_line

    driver.get(f"{server.url}/")
    replications = '[data-testid="stNumberInput"] input[aria-label="Replications"]'
    try:
        WebDriverWait(driver, PAGE_TIMEOUT).until(ec.presence_of_element_located((By.CSS_SELECTOR, replications)))
    except TimeoutException:
        fail(f"the Run page showed no Replications input in {PAGE_TIMEOUT} s")
    assert driver.title == "tcp-sim"
    assert driver.current_url.startswith(f"http://127.0.0.1:{server.port}/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Run a scenario"

    set_number(driver, "Replications", REPLICATIONS)
    set_number(driver, "Years", YEARS)
    # each commit reruns the script: the command shown follows the widgets once it has
    asked = [rf"\brun\.replications={REPLICATIONS}(\s|$)", rf"\brun\.years={YEARS}(\.0)?(\s|$)"]
    command = '[data-testid="stCode"]'
    try:
        WebDriverWait(driver, 30).until(
            lambda d: all(re.search(a, d.find_element(By.CSS_SELECTOR, command).text) for a in asked)
        )
    except TimeoutException:
        fail("the command shown did not follow the replications and years typed")

    driver.find_element(By.XPATH, "//button[.//p[normalize-space()='Run']]").click()
    fan = f'//*[@data-testid="stImage"][.//*[normalize-space()="{FAN_CAPTION}"]]//img'
    try:
        image = WebDriverWait(driver, RUN_TIMEOUT).until(ec.visibility_of_element_located((By.XPATH, fan)))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return arguments[0].complete", image))
    except TimeoutException:
        fail(f"no fan chart ({FAN_CAPTION!r}) in {RUN_TIMEOUT} s after Run")

    assert driver.execute_script("return arguments[0].naturalWidth", image) > 0, "the fan chart's image is empty"
    page = driver.find_element(By.TAG_NAME, "body").text
    assert re.search(rf"\b{REPLICATIONS} replications in \d", page), "the result is not of the run asked for"
    assert "P(at or under) each milestone" in page
    assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'), "no milestones table"
    key_figures = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stTable"]')
    assert key_figures and key_figures[0].text.strip(), "no key figures table"
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), "a traceback is shown"
    alerts = [a.text for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAlert"]')]
    assert not alerts, f"the page shows an alert: {alerts}"

    # the screenshot: the run settings, the Run button and the fan chart below them
    settings = driver.find_element(By.XPATH, "//h3[normalize-space()='Run settings']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", settings)
    shot = tmp_path / "app_run.png"
    assert driver.save_screenshot(str(shot)), "no screenshot saved"
    assert shot.stat().st_size > 0
    if target := os.environ.get("TCP_SIM_SCREENSHOT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
