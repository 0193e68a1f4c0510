"""The metric catalogue: every metric's name, kind, unit and label, declared once.

A name may hold a placeholder that a system expands: ``<unit>`` (unit types), ``<commissioner>``,
``<reason>`` (delay reasons), ``<rag>``, ``<type>`` (placement types), ``<payer>``, ``<transfer>``
(transfer kinds), ``<pool>`` (the
system's bed pools). Person metrics (``per_tcp``) also come as ``<tcp>/<name>`` for each TCP of a system
of several. Validation of metric names (``run.auto.metric``, compare's ``--metrics``), compare's labels,
the sweep's units, the report's tables and the README's metrics table read it; the pooled budget's
ledger adds its own entries (``sim.finance.ledger.CATALOGUE``) beside these (``sim.metrics``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sim.config.spec import SystemSpec
from sim.pathway import (
    COMMISSIONERS,
    DELAY_REASONS,
    LONG_STAY_YEARS,
    PAYER_NAMES,
    PAYERS,
    PLACEMENT_TYPES,
    RAG,
    TRANSFER_KINDS,
    UNIT_NAMES,
    UNIT_TYPES,
)

#: How a metric is measured (DESIGN.md section 5): at month ends, summed within months, or time-weighted.
KINDS: tuple[str, ...] = ("stock", "flow", "level")
#: Which way a metric is better (a comparison's P(better) reads it); "" for a metric where neither is.
DIRECTIONS: tuple[str, ...] = ("lower", "higher", "")

#: The direction of each entry (by its catalogue name) that has one: the Transforming Care goals (fewer
#: people in hospital, out of area, delayed or readmitted, less spent on beds; seed 000 and 001). Left
#: out, with no direction: what a scenario moves on purpose (community placements, crisis support, CTRs,
#: community spend, dowries), counts of beds and their occupancy, and flows neither good nor bad
#: (discharges, transfers, the register).
BETTER: dict[str, str] = {
    **dict.fromkeys(
        (
            "inpatients",
            "inpatients_out_of_area",
            "inpatients_per_million",
            "inpatients_per_million_children",
            "inpatients_<unit>",
            "inpatients_<commissioner>",
            "inpatients_children",
            "long_stayers_<stay>y",
            "long_stay_share_<stay>y",
            "delayed_discharges",
            "delayed_discharges_<reason>",
            "awaiting_bed",
            "awaiting_bed_crisis_support",
            "housing_lapsed",
            "admissions",
            "out_of_area_placements",
            "out_of_area_full_beds",
            "out_of_area_no_local_unit",
            "readmissions_12m",
            "first_admissions",
            "closure_moves",
            "deaths_in_hospital",
            "deaths_in_community",
            "crises",
            "breakdowns",
            "inpatient_days",
            "inpatient_days_out_of_area",
            "delayed_bed_days",
            "delayed_bed_days_<reason>",
            "bed_waits",
            "bed_waits_crisis_support",
            "bed_waits_out_of_area",
            "bed_wait_days",
            "bed_wait_days_crisis_support",
            "admissions_<unit>",
            "out_of_area_placements_<unit>",
            "out_of_area_full_beds_<unit>",
            "out_of_area_no_local_unit_<unit>",
            "cost_<payer>",
            "cost_total",
            "cost_beds_in_area",
            "cost_beds_empty",
            "cost_beds_out_of_area",
            # the pooled budget's ledger (sim.finance.ledger): a shortfall, or the pool going negative
            "shortfall_ccg",
            "shortfall_la",
            "shortfall_specialised",
            "shortfall_total",
            "pool_first_negative",
            "pool_balance_negative",
            "pool_ever_negative",
        ),
        "lower",
    ),
    **dict.fromkeys(
        (
            "repatriations",
            "admissions_averted",
            "discharges_home",
            "placements_settled",
            "pool_reserve",
            "pool_balance",
        ),
        "higher",
    ),
}


@dataclass(frozen=True)
class Metric:
    """One metric (or a family of them, when ``name`` holds a placeholder)."""

    name: str
    kind: str  # stock (at the month end), flow (within the month) or level (time-weighted over the month)
    unit: str  # people, bed-days, person-days, pounds, beds, share, people per million, yes/no
    label: str  # what it is, in a few words, for charts and tables
    per_tcp: bool = False  # also reported for each TCP of a system, as <tcp>/<name>
    # which way is better: "lower", "higher" or "" (neither); unset, ``BETTER`` says by the entry's name
    better: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.name}: kind '{self.kind}' is not one of {KINDS}")
        if not self.better and self.name in BETTER:  # entries declared elsewhere (the ledger's) too
            object.__setattr__(self, "better", BETTER[self.name])
        if self.better not in DIRECTIONS:
            raise ValueError(f"metric {self.name}: better '{self.better}' is not one of {DIRECTIONS}")

    def expand(self, spec: SystemSpec | None = None) -> list[Metric]:
        """The concrete metrics of this entry (itself when it has no placeholder); ``<pool>`` needs a spec."""
        holder = re.search(r"<(\w+)>", self.name)
        if holder is None:
            return [self]
        values = _placeholder_values(holder.group(1), spec)
        return [
            m
            for v in values
            for m in Metric(
                self.name.replace(holder.group(0), v, 1),
                self.kind,
                self.unit,
                self.label.replace(holder.group(0), _spoken(holder.group(1), v), 1),
                self.per_tcp,
                self.better,
            ).expand(spec)
        ]

    def pattern(self) -> re.Pattern[str]:
        """A regular expression of this entry's concrete names, a group a placeholder (``<pool>`` matches any
        name: pools are named by the system)."""
        out = []
        for part in re.split(r"(<\w+>)", self.name):
            if part == "<pool>":
                out.append("(.+)")
            elif part.startswith("<"):
                out.append("(" + "|".join(map(re.escape, _placeholder_values(part[1:-1], None))) + ")")
            else:
                out.append(re.escape(part))
        return re.compile("".join(out))


def _spoken(holder: str, value: str) -> str:
    """How a label says a placeholder's value: a unit type or payer by its name, others as written."""
    names = {"unit": UNIT_NAMES, "payer": PAYER_NAMES, "commissioner": PAYER_NAMES}.get(holder, {})
    return names.get(value, value.replace("_", " "))


def _placeholder_values(holder: str, spec: SystemSpec | None) -> tuple[str, ...]:
    fixed = {
        "unit": UNIT_TYPES,
        "commissioner": COMMISSIONERS,
        "reason": DELAY_REASONS,
        "rag": RAG,
        "type": PLACEMENT_TYPES,
        "payer": PAYERS,
        "transfer": TRANSFER_KINDS,
        "stay": tuple(str(years) for years in LONG_STAY_YEARS),
    }
    if holder in fixed:
        return fixed[holder]
    if holder == "pool":
        if spec is None:  # (a pattern of pool names is made by ``Metric.pattern``)
            raise ValueError("<pool> metrics need a system to name its pools")
        return tuple(p.name for p in spec.pools)
    raise ValueError(f"unknown placeholder <{holder}>")


def _m(name: str, kind: str, unit: str, label: str, per_tcp: bool = True) -> Metric:
    return Metric(name, kind, unit, label, per_tcp)


#: The person and cost metrics of a scope (the system, or one TCP of it), then the system's bed metrics.
CATALOGUE: tuple[Metric, ...] = (
    _m("inpatients", "stock", "people", "inpatients"),
    _m("inpatients_in_area", "stock", "people", "inpatients in area"),
    _m("inpatients_out_of_area", "stock", "people", "inpatients out of area"),
    _m("inpatients_per_million", "stock", "people per million", "adult inpatients per million adults"),
    _m(
        "inpatients_per_million_children",
        "stock",
        "people per million",
        "CAMHS tier 4 inpatients per million children",
    ),
    _m("inpatients_<unit>", "stock", "people", "inpatients, <unit>"),
    _m("inpatients_<commissioner>", "stock", "people", "inpatients commissioned by <commissioner>"),
    _m("inpatients_children", "stock", "people", "inpatients under the transition age (all in CAMHS tier 4)"),
    _m("long_stayers_<stay>y", "stock", "people", "inpatients in hospital <stay>+ years"),
    _m("long_stay_share_<stay>y", "stock", "share", "share of inpatients in hospital <stay>+ years"),
    _m("delayed_discharges", "stock", "people", "delayed discharges"),
    _m("delayed_discharges_<reason>", "stock", "people", "delayed discharges, <reason>"),
    _m("register", "stock", "people", "register"),
    _m("register_<rag>", "stock", "people", "register, <rag>"),
    _m("crisis_support", "stock", "people", "in crisis support"),
    _m("awaiting_bed", "stock", "people", "waiting in the community for an in-area bed"),
    _m("awaiting_bed_crisis_support", "stock", "people", "waiting for an in-area bed in a crisis-support place"),
    _m("placements", "stock", "people", "community placements"),
    _m("placements_<type>", "stock", "people", "community placements, <type>"),
    _m("housing_free", "stock", "units", "housing units free"),
    _m("housing_free_<type>", "stock", "units", "housing units free, <type>"),
    _m("housing_lapsed", "flow", "units", "housing offers lapsed"),
    _m("admissions", "flow", "people", "admissions"),
    _m("out_of_area_placements", "flow", "people", "out-of-area placements"),
    _m("out_of_area_full_beds", "flow", "people", "out of area for want of a bed"),
    _m("out_of_area_no_local_unit", "flow", "people", "out of area as no local unit has beds"),
    _m("readmissions_12m", "flow", "people", "readmissions within 12 months"),
    _m("first_admissions", "flow", "people", "admissions not within 12 months of a discharge"),
    _m("discharges", "flow", "people", "discharges"),
    _m("discharges_home", "flow", "people", "discharges home"),
    _m("repatriations", "flow", "people", "repatriations"),
    _m("closure_moves", "flow", "people", "moved out of area by a bed closing"),
    _m("clinically_ready", "flow", "people", "becoming clinically ready"),
    _m("transfers", "flow", "people", "transfers between units"),
    _m("transfers_<transfer>", "flow", "people", "transfers, <transfer>"),
    _m("transitions_to_adult", "flow", "people", "children reaching the transition age"),
    _m("deaths_in_hospital", "flow", "people", "deaths in hospital"),
    _m("deaths_in_community", "flow", "people", "deaths in the community"),
    _m("crises", "flow", "people", "crises"),
    _m("ctrs_pre_admission", "flow", "people", "pre-admission CTRs"),
    _m("admissions_averted", "flow", "people", "admissions averted"),
    _m("ctrs_inpatient", "flow", "people", "inpatient CTRs"),
    _m("breakdowns", "flow", "people", "placement breakdowns"),
    _m("placements_settled", "flow", "people", "placements settling"),
    _m("settled_left", "flow", "people", "settled people leaving the pathway"),
    _m("settled_to_register", "flow", "people", "settled people back on the register"),
    _m("inpatient_days", "flow", "bed-days", "inpatient bed-days"),
    _m("inpatient_days_out_of_area", "flow", "bed-days", "out-of-area bed-days"),
    _m("delayed_bed_days", "flow", "bed-days", "delayed bed-days"),
    _m("delayed_bed_days_<reason>", "flow", "bed-days", "delayed bed-days, <reason>"),
    _m("bed_waits", "flow", "people", "waits for an in-area bed started"),
    _m("bed_waits_crisis_support", "flow", "people", "waits for an in-area bed started in crisis support"),
    _m("bed_waits_admitted", "flow", "people", "waits for an in-area bed ended in one"),
    _m("bed_waits_out_of_area", "flow", "people", "waits for an in-area bed ended out of area"),
    _m("bed_wait_days", "flow", "person-days", "days waiting for an in-area bed"),
    _m("bed_wait_days_crisis_support", "flow", "person-days", "days waiting for an in-area bed in crisis support"),
    _m("admissions_<unit>", "flow", "people", "admissions, <unit>"),
    _m("out_of_area_placements_<unit>", "flow", "people", "out-of-area placements, <unit>"),
    _m("out_of_area_full_beds_<unit>", "flow", "people", "out of area for want of a bed, <unit>"),
    _m("out_of_area_no_local_unit_<unit>", "flow", "people", "out of area as no local unit has beds, <unit>"),
    _m("cost_<payer>", "flow", "pounds", "spend by <payer>"),
    _m("cost_total", "flow", "pounds", "spend by all payers"),
    _m("cost_beds_in_area", "flow", "pounds", "spend on in-area beds"),
    _m("cost_beds_empty", "flow", "pounds", "spend on in-area beds while empty"),
    _m("cost_beds_out_of_area", "flow", "pounds", "spend on out-of-area beds"),
    _m("cost_community", "flow", "pounds", "spend on community packages"),
    _m("cost_crisis_support", "flow", "pounds", "spend on crisis support"),
    _m("cost_ctrs", "flow", "pounds", "spend on CTRs"),
    _m("cost_community_<type>", "flow", "pounds", "spend on community packages, <type>"),
    _m("dowries", "flow", "pounds", "dowries"),
    _m("beds_in_area", "stock", "beds", "in-area beds open", per_tcp=False),
    _m("occupancy", "level", "share", "bed occupancy", per_tcp=False),
    _m("occupancy_<pool>", "level", "share", "bed occupancy, <pool>", per_tcp=False),
    _m("beds_<pool>", "stock", "beds", "in-area beds open, <pool>", per_tcp=False),
)


def describe(name: str, entries: Iterable[Metric]) -> Metric | None:
    """The concrete metric ``name`` is, from the entries, without a system (a TCP's own, ``<tcp>/<name>``,
    as its system-wide twin): a name spelled out in full first, then families of fixed values, then pools;
    None if it is no metric's."""
    base = name.rsplit("/", 1)[-1]
    for entry in sorted(entries, key=lambda m: ("<" in m.name, "<pool>" in m.name)):
        match = entry.pattern().fullmatch(base)
        if match is not None:
            label = entry.label
            for holder, value in zip(re.findall(r"<\w+>", entry.name), match.groups()):
                label = label.replace(holder, _spoken(holder[1:-1], value), 1)
            return Metric(base, entry.kind, entry.unit, label, entry.per_tcp, entry.better)
    return None


def expand(entries: Iterable[Metric], spec: SystemSpec | None = None) -> dict[str, Metric]:
    """The concrete metrics of ``entries`` for ``spec``, by name, with each TCP's own (``<tcp>/<name>``)
    when the system has several and reports them (``run.tcp_metrics``)."""
    out = {m.name: m for e in entries for m in e.expand(spec)}
    if spec is not None and len(spec.tcps) > 1 and spec.tcp_metrics:
        for t in spec.tcps:
            for m in list(out.values()):
                if m.per_tcp and "/" not in m.name:
                    name = f"{t.name}/{m.name}"
                    out[name] = Metric(name, m.kind, m.unit, f"{t.name}: {m.label}", False, m.better)
    return out
