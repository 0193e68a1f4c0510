"""What the Run page offers and what it asks for, without Streamlit: the shipped areas and scenarios, the
levers of an area (their config keys and shipped values), and a page's choices as Hydra override strings,
validated by the config's own checks (so a run made in the app can be redone from the command line).

The levers are set where the config reads them: for one TCP its own keys (``tcp.ctr.coverage``...), unless
the scenario sets the same thing for every TCP (``scenario.ctr_coverage``), which wins at the build; for a
system of TCPs the scenario's keys, and levers with no scenario key (the avert rate, the beds) are off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from sim.api import compose
from sim.config import build
from sim.config.census import CENSUS_KEYS
from sim.config.checks import add_months, month_label, parse_month
from sim.config.errors import user_error_line
from sim.config.provenance import census_month, hydra_value
from sim.config.store import CONFIG_DIR
from sim.pathway import UNIT_TYPES

#: The bed table's columns (one row a step of a unit's schedule).
BED_COLUMNS = ("unit", "date", "beds")
#: The run settings the page offers, by field name: their config keys.
RUN_KEYS = {"replications": "run.replications", "seed": "run.seed", "years": "run.years", "start": "run.start"}
#: The field the beds table is, and the key prefix its errors carry.
BEDS_KEY = "tcp.beds"


@dataclass(frozen=True)
class Area:
    """An area: a TCP (``tcp/<name>.yaml``) or a system of TCPs (``system/<name>.yaml``), shipped
    (``configs/``) or in a directory of the user's own configs (``config_dir``: ``--config-dir``, or an
    uploaded area unpacked by ``sim.app.upload``)."""

    kind: str  # "tcp" or "system"
    name: str
    config_dir: str | None = None
    # where it came from, in the user's words ("uploaded mine.zip"); else its folder. Not part of what
    # the area is: the same folder is the same area.
    source: str | None = field(default=None, compare=False)

    @property
    def choice(self) -> str:
        """The override that chooses it."""
        return f"{self.kind}={self.name}"

    @property
    def label(self) -> str:
        where = "" if self.config_dir is None else f", {self.source or 'from ' + self.config_dir}"
        return f"{self.name} ({'TCP' if self.kind == 'tcp' else 'system of TCPs'}{where})"

    @property
    def config_dirs(self) -> tuple[str, ...]:
        """The ``--config-dir`` its command line needs."""
        return () if self.config_dir is None else (self.config_dir,)

    def compose(self, ovr: Sequence[str]) -> DictConfig:
        """``ovr`` composed with this area's config directory (if any) searched first."""
        return compose(list(ovr), config_dir=self.config_dir)


def areas_in(config_dir: str | Path) -> list[Area]:
    """The TCPs and systems of a directory of the user's own configs (``tcp/*.yaml``, ``system/*.yaml``)."""
    d = Path(config_dir).resolve()
    tcps = [Area("tcp", p.stem, str(d)) for p in sorted((d / "tcp").glob("*.yaml"))]
    return tcps + [Area("system", p.stem, str(d)) for p in sorted((d / "system").glob("*.yaml"))]


def areas() -> list[Area]:
    """Every shipped TCP and system, BHR (the default) first; ``system/single`` is not an area (it is the
    system of whichever TCP is chosen)."""
    tcps = sorted(p.stem for p in (CONFIG_DIR / "tcp").glob("*.yaml"))
    tcps.sort(key=lambda n: n != "bhr")
    systems = sorted(p.stem for p in (CONFIG_DIR / "system").glob("*.yaml") if p.stem != "single")
    return [Area("tcp", n) for n in tcps] + [Area("system", n) for n in systems]


def scenarios() -> list[str]:
    """The shipped scenarios (``configs/scenario/``), baseline first."""
    names = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    return sorted(names, key=lambda n: n != "baseline")


@dataclass(frozen=True)
class Lever:
    """One lever of the page: the config key its override sets (None: off for this area, ``note`` says
    why), the value the area and scenario ship with, and what it is."""

    field: str
    label: str
    key: str | None
    value: Any
    note: str = ""


def census_start(cfg: DictConfig) -> str | None:
    """The month after the latest census month of a config's TCPs (from each census file's name,
    ``mine_2024-03.csv``): where a run of the user's own area starts, its census the state at that
    start. None if no census file names its month."""
    nodes = list(cfg.system.tcps.values()) if cfg.system.tcps else [cfg.tcp] if cfg.tcp is not None else []
    months = []
    for node in nodes:
        for key in CENSUS_KEYS[:2]:
            if node.get(key):
                month = census_month(Path(str(node[key])))
                if month is not None:
                    months.append(month)
    if not months:
        return None
    return month_label(add_months(parse_month("census", max(months)), 1))


def start_of(area: Area, cfg: DictConfig) -> str:
    """The start month a page offers for an area: the config's ``run.start`` for a shipped area; for the
    user's own, the month after its census (``census_start``) if that is later (a census of 2024 cannot
    start a run in 2016)."""
    start = str(cfg.run.start)
    if area.config_dir is None:
        return start
    after = census_start(cfg)
    return after if after is not None and after > start else start


def run_settings(area: Area, cfg: DictConfig) -> dict[str, Any]:
    """What a page's run settings start from: the replications, seed and horizon of the files, the start
    month it offers (``start_of``) and the files' own (``composed_start``)."""
    return {
        "replications": int(cfg.run.replications),
        "seed": int(cfg.run.seed),
        "years": cfg.run.years,
        "start": start_of(area, cfg),
        "composed_start": str(cfg.run.start),
    }


def run_choices(chosen: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The run settings a page overrides (field -> value): the replications and seed always (the command
    says what it runs), the horizon when changed, and the start when it is not the files' own, whether
    chosen or not (a user's own area starts after its census: ``start_of``)."""
    out = {k: v for k, v in chosen.items() if k not in ("years", "start")}
    if chosen.get("years", settings["years"]) != settings["years"]:
        out["years"] = chosen["years"]
    start = chosen.get("start", settings["start"])
    if start != settings["composed_start"]:
        out["start"] = start
    return out


def base_config(area: Area, scenario: str) -> DictConfig:
    """The config of an area and scenario as their files give it, no value changed."""
    return area.compose([area.choice, f"scenario={scenario}"])


def discharge_levers(scenario: DictConfig) -> dict[str, Lever]:
    """The levers of the wait to leave hospital, the scenario's keys (for one TCP and a system alike):
    the housing pipeline's dates, the funding decision's and the provider's times."""
    return {
        "housing": Lever(
            "housing",
            "Housing pipeline: months earlier",
            "scenario.housing_months_earlier",
            int(scenario.housing_months_earlier),
            "every planned housing development opens this many months earlier (not before the start)",
        ),
        "funding": Lever(
            "funding",
            "Funding decisions: times as long",
            "scenario.funding_delay_factor",
            float(scenario.funding_delay_factor),
            "the time to agree funding times this (0.5: twice as fast; 0: no wait)",
        ),
        "provider": Lever(
            "provider",
            "Finding a provider: times as long",
            "scenario.provider_lead_factor",
            float(scenario.provider_lead_factor),
            "the time to find and mobilise a provider times this (0: no wait)",
        ),
    }


def levers(cfg: DictConfig) -> dict[str, Lever]:
    """The levers of a composed config, by field: CTR coverage and avert rate, crisis-support places,
    repatriation, the housing pipeline, funding and provider delays; their values as the run would use
    them (the scenario's where it sets them)."""
    return {**admission_levers(cfg), **discharge_levers(cfg.scenario)}


def admission_levers(cfg: DictConfig) -> dict[str, Lever]:
    """CTR coverage and avert rate, crisis-support places and repatriation: a TCP's own keys, or for a
    system the scenario's (``levers``)."""
    sc = cfg.scenario
    if cfg.system.tcps:  # a system: the scenario's keys, applied to every TCP
        coverage = sc.ctr_coverage
        return {
            "coverage": Lever(
                "coverage",
                "Pre-admission CTR coverage (every TCP)",
                "scenario.ctr_coverage",
                None if coverage is None else float(coverage),
                "blank: each TCP's own (" + ", ".join(f"{t.ctr.coverage:g}" for t in cfg.system.tcps.values()) + ")",
            ),
            "avert": Lever(
                "avert", "CTR avert rate", None, None, "set in each TCP's file; no scenario key applies it to all"
            ),
            "crisis": Lever(
                "crisis",
                "Crisis-support places: times each TCP's",
                "scenario.crisis_support_factor",
                float(sc.crisis_support_factor),
                "each TCP's places ("
                + ", ".join(f"{t.crisis_support.places}" for t in cfg.system.tcps.values())
                + ") times this, rounded",
            ),
            "repatriation": Lever(
                "repatriation",
                "Repatriation (every TCP)",
                "scenario.repatriation",
                None if sc.repatriation is None else bool(sc.repatriation),
                "as configured: each TCP's own",
            ),
        }
    tcp = cfg.tcp
    factor = float(sc.crisis_support_factor)
    return {
        "coverage": Lever(
            "coverage",
            "Pre-admission CTR coverage",
            "tcp.ctr.coverage" if sc.ctr_coverage is None else "scenario.ctr_coverage",
            float(tcp.ctr.coverage if sc.ctr_coverage is None else sc.ctr_coverage),
            "" if sc.ctr_coverage is None else "the scenario sets it (scenario.ctr_coverage)",
        ),
        "avert": Lever("avert", "CTR avert rate", "tcp.ctr.avert", float(tcp.ctr.avert)),
        "crisis": Lever(
            "crisis",
            "Crisis-support places",
            "tcp.crisis_support.places",
            int(tcp.crisis_support.places),
            "" if factor == 1 else f"the scenario multiplies them by {factor:g} (scenario.crisis_support_factor)",
        ),
        "repatriation": Lever(
            "repatriation",
            "Repatriation",
            "tcp.discharge.repatriation" if sc.repatriation is None else "scenario.repatriation",
            bool(tcp.discharge.repatriation if sc.repatriation is None else sc.repatriation),
        ),
    }


def bed_table(cfg: DictConfig) -> pd.DataFrame | None:
    """The TCP's bed schedule as a table, one row a step (unit, date, beds); None for a system."""
    if cfg.system.tcps or cfg.tcp is None:
        return None
    rows = [
        (unit, str(step.date), int(step.beds))
        for unit in UNIT_TYPES
        if unit in cfg.tcp.beds
        for step in cfg.tcp.beds[unit].schedule
    ]
    return pd.DataFrame(rows, columns=list(BED_COLUMNS))


class TableError(ValueError):
    """A row of the bed table the page cannot read (a cell left empty): told as a config error is."""


def _schedules(table: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The table as each unit's schedule, in the table's order; empty rows dropped."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(table.itertuples(index=False), start=1):
        unit, date, beds = (None if _blank(v) else v for v in (row.unit, row.date, row.beds))
        if unit is None and date is None and beds is None:
            continue
        if unit is None or date is None or beds is None:
            raise TableError(f"config error: {BEDS_KEY}: row {i} of the bed table needs a unit, a date and beds")
        if float(beds) != int(float(beds)):
            raise TableError(f"config error: {BEDS_KEY}.{unit}: row {i}: {beds} beds is not a whole number")
        out.setdefault(str(unit), []).append({"date": str(date), "beds": int(float(beds))})
    return out


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def bed_overrides(shipped: pd.DataFrame, edited: pd.DataFrame) -> list[str]:
    """An override for each unit whose schedule the edited table changes (a unit whose rows are all
    deleted is given an empty schedule, which the config refuses as it would on the command line)."""
    before, after = _schedules(shipped), _schedules(edited)
    out = []
    for unit in [*before, *(u for u in after if u not in before)]:
        if after.get(unit, []) != before.get(unit):
            out.append(f"{BEDS_KEY}.{unit}.schedule={schedule_value(after.get(unit, []))}")
    return out


def schedule_value(steps: Sequence[Mapping[str, Any]]) -> str:
    """A bed schedule in Hydra's grammar, a month bare (``{date:2016-03,beds:10}``: Hydra reads it as the
    string it is, and the shell command needs no quotes inside its quotes); anything else as
    ``hydra_value`` quotes it, for the config to refuse in its own words."""
    parts = [f"{{date:{month_value(step['date'])},beds:{hydra_value(step['beds'])}}}" for step in steps]
    return "[" + ",".join(parts) + "]"


def month_value(value: Any) -> str:
    """A value in Hydra's grammar, a month (``2024-04``) bare: Hydra reads it as the string it is."""
    text = str(value)
    return text if re.fullmatch(r"\d{4}-\d{2}", text) else hydra_value(value)


def overrides(
    area: Area,
    scenario: str,
    shipped: Mapping[str, Lever],
    chosen: Mapping[str, Any],
    run: Mapping[str, Any],
    beds: Sequence[str] = (),
) -> list[str]:
    """The page's choices as Hydra overrides: the area and scenario, each lever whose value differs from
    the shipped one, the bed schedules changed, and the run settings (``run``: field -> value)."""
    out = [area.choice, f"scenario={scenario}"]
    for name, lever in shipped.items():
        value = chosen.get(name, lever.value)
        if lever.key is not None and value != lever.value:
            out.append(f"{lever.key}={hydra_value(value)}")
    out += list(beds)
    out += [f"{RUN_KEYS[k]}={month_value(v) if k == 'start' else hydra_value(v)}" for k, v in run.items()]
    return out


@dataclass(frozen=True)
class Checked:
    """Overrides checked by the config: the composed config, or the one-line error and the page's field
    it belongs to (None: no field of the page; shown by the Run button)."""

    overrides: tuple[str, ...]
    cfg: DictConfig | None = None
    error: str | None = None
    field: str | None = None


def check(
    ovr: Sequence[str], fields: Mapping[str, str | None], *, validate: bool = True, config_dir: str | None = None
) -> Checked:
    """Compose ``ovr`` and, with ``validate``, build it as a run would (nothing simulated); a refusal as
    the command line's one line with its field (``refusal``). The page composes only: its run's own
    ``prepare`` validates (once, not twice), and a run made before is answered from the cache unbuilt."""
    try:
        cfg = compose(list(ovr), config_dir=config_dir)
        if validate:
            build(cfg)
    except Exception as e:  # noqa: BLE001 - sorted by refusal: the user's mistakes are told, the rest raised
        return refusal(e, ovr, fields)
    return Checked(tuple(ovr), cfg=cfg)


def refusal(e: BaseException, ovr: Sequence[str], fields: Mapping[str, str | None]) -> Checked:
    """A refusal of ``ovr`` as the command line's one line (``user_error_line``) with the field of
    ``fields`` (field -> config key) it names. An error that is not the user's is raised again: the page
    tells it in one line too, but it is a bug to report."""
    line = user_error_line(e)
    if line is None:
        raise e
    return Checked(tuple(ovr), error=line, field=field_of(line, fields))


def field_of(line: str, fields: Mapping[str, str | None]) -> str | None:
    """The field whose key an error line names (the longest key that starts the line after ``config
    error: ``; ``tcp.beds.atu.schedule[0].beds`` is the beds table's)."""
    said = line.removeprefix("config error: ")
    best: tuple[int, str | None] = (0, None)
    for name, key in fields.items():
        if key and (said.startswith(key + ".") or said.startswith(key + ":") or said.startswith(key + "[")):
            best = max(best, (len(key), name), key=lambda b: b[0])
    return best[1]
