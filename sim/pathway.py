"""The pathway's vocabulary, in one place below everything that uses it (DESIGN.md section 2).

The names and codes of the model: unit types, RAG ratings, placement types, delay reasons, who pays,
where a person is (states), a placement's phases, the kinds of Poisson source, the order of simultaneous
events (``Priority``), the thresholds that define long stays and readmissions, and the length of a year.
The config schema, the SimPy model, the compiled engine, the results and the finance all import their
words from here, so a word is defined once and the engines cannot drift apart. Plain Python: importing
this module loads neither SimPy nor Numba.
"""

from __future__ import annotations

from enum import IntEnum

#: Days in a year: every rate per year and time in years of the config becomes days with it.
DAYS_PER_YEAR = 365.25

# -------------------------------------------------------------------------------- what the config names

#: Unit types a bed pool can hold (DESIGN.md section 2).
UNIT_TYPES: tuple[str, ...] = ("atu", "low_secure", "medium_secure", "camhs_t4")

#: How charts and sentences name each unit type: a title, and a few words in a sentence.
UNIT_LABELS: dict[str, str] = {
    "atu": "ATU (assessment and treatment)",
    "low_secure": "Low secure",
    "medium_secure": "Medium secure",
    "camhs_t4": "CAMHS tier 4 (children)",
}
UNIT_NAMES: dict[str, str] = {
    "atu": "ATU",
    "low_secure": "low secure",
    "medium_secure": "medium secure",
    "camhs_t4": "CAMHS tier 4",
}

#: Who commissions a bed of each unit type: CCGs commission non-secure beds, NHS England specialised
#: commissioning secure beds and CAMHS tier 4 (PARAMETERS.md glossary).
COMMISSIONER_OF_UNIT: dict[str, str] = {
    "atu": "ccg",
    "low_secure": "specialised",
    "medium_secure": "specialised",
    "camhs_t4": "specialised",
}
COMMISSIONERS: tuple[str, ...] = ("ccg", "specialised")

#: RAG ratings of the dynamic support register, most urgent first.
RAG: tuple[str, ...] = ("red", "amber", "green")

#: Community placement types (seed 004: bespoke single, core and cluster, shared housing).
PLACEMENT_TYPES: tuple[str, ...] = ("bespoke_single", "core_cluster", "shared")

#: Who pays (costs by commissioner), and how a sentence names them.
PAYERS: tuple[str, ...] = ("ccg", "specialised", "la")
PAYER_NAMES: dict[str, str] = {"ccg": "CCGs", "specialised": "specialised commissioning", "la": "local authorities"}

#: Why a clinically ready inpatient is still in hospital, in the order a reason is assigned: no housing
#: unit yet, else no funding decision yet, else an S117 responsible-commissioner dispute, else no provider.
DELAY_REASONS: tuple[str, ...] = ("housing", "funding", "dispute", "provider")

#: Allocation policies for the next free housing unit, and their codes.
HOUSING_POLICIES: tuple[str, ...] = ("fifo", "longest_stay")
FIFO, LONGEST_STAY = 0, 1

#: Poisson sources of each TCP, in source-index order: crises among people not on the register, people
#: joining the register, and housing units coming free by placement type (``PLACEMENT_TYPES`` order).
SOURCE_KINDS: tuple[str, ...] = (
    "unregistered",
    "register_join",
    *(f"housing_{kind}" for kind in PLACEMENT_TYPES),
)

# ---------------------------------------------------------------------------------- codes of the model

#: Areas, used as array indices: an in-area bed, or a bed out of area.
AREAS: tuple[str, ...] = ("in", "out")
IN_AREA, OUT_OF_AREA = 0, 1

#: Where a person is (DESIGN.md section 2). ``outside`` is anyone the model does not yet know (people not
#: on a register before their crisis); ``left`` counts people who left the register or died;
#: ``awaiting_bed`` is someone in crisis waiting in the community for an in-area bed (the "or wait" policy
#: of a pool, ``wait_months``), in a crisis-support place if one was free, else at home.
STATES: tuple[str, ...] = ("outside", "register", "crisis_support", "inpatient", "placement", "left", "awaiting_bed")
OUTSIDE, REGISTER, SUPPORT, INPATIENT, PLACEMENT, LEFT, AWAITING_BED = range(len(STATES))

#: Where a person waits for an in-area bed: in a crisis-support place (one of the TCP's
#: ``crisis_support.places``, held while they wait), or at home when none was free.
WAIT_PLACES: tuple[str, ...] = ("crisis_support", "home")
WAIT_SUPPORT, WAIT_HOME = range(len(WAIT_PLACES))
#: How a wait for an in-area bed ends: admitted to a freed in-area bed, or out of area (for want of a bed)
#: once the pool's ``wait_months`` have passed.
WAIT_ENDS: tuple[str, ...] = ("admitted", "out_of_area")
WAIT_ADMITTED, WAIT_OUT_OF_AREA = range(len(WAIT_ENDS))

#: Placement phases of cost: the first months after discharge cost more, then the ongoing cost.
PHASES: tuple[str, ...] = ("initial", "ongoing")
INITIAL, ONGOING = 0, 1

#: How a settled placement ends (``community.settled_*_rate``), in the order of their hazards: the person
#: leaves the at-risk pathway, or goes back on the register (rated green).
SETTLED_EXITS: tuple[str, ...] = ("left", "register")
SETTLED_LEFT, SETTLED_REGISTER = range(len(SETTLED_EXITS))

#: Moves between units without leaving hospital (counted apart from admissions, as the national
#: statistics count them): a CAMHS tier 4 inpatient reaching the transition age moved to an adult unit,
#: a step down from secure care, a step up on deterioration.
TRANSFER_KINDS: tuple[str, ...] = ("camhs_to_adult", "step_down", "step_up")
CAMHS_TO_ADULT, STEP_DOWN, STEP_UP = range(len(TRANSFER_KINDS))

#: Adult unit types from the least secure to the most: a step down (``transfers.step_down_to``) goes to a
#: unit before the one it leaves in this order, a step up to one after it. CAMHS tier 4 is for children
#: and is neither left nor entered by a step (children move at the transition age, ``come_of_age``).
SECURITY_ORDER: tuple[str, ...] = ("atu", "low_secure", "medium_secure")

#: Where a death happened.
DEATH_PLACES: tuple[str, ...] = ("hospital", "community")
HOSPITAL, COMMUNITY = 0, 1

#: Codes both engines branch on.
RED, AMBER, GREEN = (RAG.index(r) for r in RAG)
CAMHS = UNIT_TYPES.index("camhs_t4")
HOUSING, FUNDING, DISPUTE, PROVIDER = (DELAY_REASONS.index(r) for r in DELAY_REASONS)

#: A register member's next event, from their hazards in this order: a crisis, a move to each RAG
#: rating (``RAG`` order), leaving the register.
REGISTER_EVENTS: tuple[str, ...] = ("crisis", *(f"to_{r}" for r in RAG), "leave")
REG_CRISIS, REG_LEAVE = 0, len(REGISTER_EVENTS) - 1

#: Kinds of event in the per-person event log (``run.event_log``), in code order: both engines record the
#: same kinds at the same points (docs/events.md says what each is and where). The log's ``state`` is the
#: person's state after the event.
EVENT_KINDS: tuple[str, ...] = (
    "register_start",  # on the register at the start
    "register_join",  # joins the register (a new referral)
    "rag",  # the register's RAG rating moves
    "register_leave",  # leaves the register
    "crisis",  # a crisis (of a register member, someone not on a register, or a placement breaking down)
    "pre_admission_ctr",  # the crisis has a pre-admission C(E)TR
    "averted",  # the CTR averts the admission (crisis support follows)
    "crisis_support",  # into a crisis-support place
    "register_red",  # out of crisis support, back on the register rated red
    "await_bed",  # waits in the community for an in-area bed
    "admission",  # admitted to hospital
    "census",  # in hospital at the start
    "transfer",  # moves to another unit type without leaving hospital
    "inpatient_ctr",  # an inpatient CTR
    "adult",  # reaches the transition age
    "ready",  # clinically ready for discharge, and not going straight home
    "housed",  # a housing unit is found for the ready inpatient
    "discharge",  # discharged to a community placement
    "discharge_home",  # discharged home, back on the register rated amber
    "repatriation",  # moves from a bed out of area to an in-area bed
    "closure_move",  # moved out of area as the in-area bed closes
    "death",  # dies (in hospital or in the community)
    "community_start",  # in a community placement at the start
    "breakdown",  # the placement breaks down (a crisis follows)
    "settled",  # the placement is settled
    "settled_leave",  # a settled person leaves the at-risk pathway
    "settled_register",  # a settled person goes back on the register rated green
)
EVENT_CODE: dict[str, int] = {name: code for code, name in enumerate(EVENT_KINDS)}

# ---------------------------------------------------------------------------------------- thresholds

#: "In hospital 5+ years" (seed 001: 11 people in April 2017): a dowry follows a person discharged after it.
LONG_STAY_DAYS = 5 * DAYS_PER_YEAR
#: The lengths of stay so far the record counts inpatients by at each month end, in years, as the national
#: statistics publish them (PARAMETERS.md: 2+ years 47-62%, 5+ about 34%, 10+ about 6% of inpatients).
LONG_STAY_YEARS: tuple[int, ...] = (2, 5, 10)
#: A readmission is an admission within 12 months of the person's last discharge.
READMISSION_DAYS = DAYS_PER_YEAR


class Priority(IntEnum):
    """Order of simultaneous events, lowest first; within a kind, by entity number, then by the order the
    events were made. Both engines order by it: never by scheduler accident (DESIGN.md section 3)."""

    MONTH_END = 1  # the record at a boundary sees the state before anything else at that instant
    SCHEDULE = 2  # bed-schedule steps and housing pipeline units take effect at the start of their month
    DEPARTURE = 3  # discharges, deaths, leaving, end of crisis support: free what they held first
    PROGRESS = 4  # inpatient CTRs, RAG moves, a placement's initial months ending or its settling
    CRISIS = 5  # crises (register members, people not on a register, placement breakdowns)
    JOIN = 6  # people joining the register


#: The kind of event each register event is, for ``Priority``.
REGISTER_EVENT_PRIORITY: tuple[Priority, ...] = (
    Priority.CRISIS,
    *(Priority.PROGRESS for _ in RAG),
    Priority.DEPARTURE,
)
