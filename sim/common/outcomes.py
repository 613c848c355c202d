"""The outcomes registry: every headline outcome once, with its label, unit and direction.

Summary, robustness, sweeps, sensitivity, the report and the command line read the names,
labels and units from here (as EMA Workbench's ``ScalarOutcome`` carries its ``kind``), and
:func:`sim.model.outcomes.outcomes_of_run` computes them from one run's tables. This
module imports nothing heavy, so the command line can build its options from it.

>>> OUTCOMES["cumulative_profit"].unit, OUTCOMES["cumulative_profit"].higher_is_better
('money', True)
>>> OUTCOMES["nps"].can_be_negative
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADLINES", "OUTCOMES", "OUTCOME_NAMES", "Outcome", "outcome_label"]


@dataclass(frozen=True)
class Outcome:
    """One headline outcome of a run, measured for each firm at the end of the horizon.

    ``unit`` is one of ``money``, ``money per customer``, ``people``, ``points``, ``share``;
    ``can_be_negative`` says whether a percentage change of it is meaningless.
    """

    name: str
    label: str
    description: str
    unit: str
    higher_is_better: bool = True
    can_be_negative: bool = False

    @property
    def is_money(self) -> bool:
        """Whether the outcome is an amount of money (axes get the money formatter)."""
        return self.unit.startswith("money")


_ALL = (
    Outcome(
        "customers",
        "customers at the end",
        "customers at the end of the horizon (people)",
        "people",
    ),
    Outcome(
        "cumulative_profit",
        "cumulative profit",
        "profit summed over the horizon (money)",
        "money",
        can_be_negative=True,
    ),
    Outcome(
        "discounted_profit",
        "discounted profit",
        "profit discounted to the start at the scenario's discount rate (money)",
        "money",
        can_be_negative=True,
    ),
    Outcome(
        "nps",
        "Net Promoter Score at the end",
        "Net Promoter Score at the end (-100 to 100)",
        "points",
        can_be_negative=True,
    ),
    Outcome(
        "retention_rate",
        "customers kept over the last year",
        "share of customers kept over the last year (product of per-step retention)",
        "share",
    ),
    Outcome(
        "clv",
        "lifetime value of customers won",
        "expected lifetime value of the customers won during the run: discounted margin "
        "realised within the horizon plus the survivors' expected discounted margin after "
        "it, at the firm's measured retention (money per customer, cohorts weighted by size)",
        "money per customer",
        can_be_negative=True,
    ),
    Outcome(
        "realised_value",
        "value realised by customers won",
        "discounted margin the customers won during the run realised within the horizon "
        "(money per customer; cut off at the horizon, so late cohorts count little)",
        "money per customer",
        can_be_negative=True,
    ),
)

OUTCOMES: dict[str, Outcome] = {o.name: o for o in _ALL}
"""Every headline outcome by name, in the order of the results tables' columns."""

OUTCOME_NAMES: tuple[str, ...] = tuple(OUTCOMES)
"""The outcome names, for schema choices and command-line options."""

HEADLINES: dict[str, str] = {o.name: o.description for o in _ALL}
"""Name -> description of the headline outcomes (the columns of outcomes.csv)."""


def outcome_label(name: str) -> str:
    """A readable label for an outcome (the name itself for an unknown one).

    >>> outcome_label("clv")
    'lifetime value of customers won'
    >>> outcome_label("profit_per_week")
    'profit per week'
    """
    known = OUTCOMES.get(name)
    return known.label if known else name.replace("_", " ")
