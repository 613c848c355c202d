"""Scale a scenario's money and staff with its market when ``market.n_customers`` changes.

A scenario file's budgets, fixed costs and staff are sized for its own market. Changing
only the number of people (``--set market.n_customers=N``, a sweep or a sampled market
size) would otherwise give a market of ten times the people the same 200,000 a year and
the same twelve employees: advertising would reach a tenth of the share, staff would be
swamped, and a policy's profit per customer would change with the market's size rather
than with the policy. So, unless ``market.scale_with_size`` is false, the amounts in
:data:`SCALED_PATHS` are multiplied by new size / the file's size (staff rounded, at
least one where there was one) before the explicit overrides are applied: a key set
explicitly keeps the value given. Amounts per person, per customer, per employee or per
supplier (lever unit costs, wages, training per employee, supplier investment: suppliers
do not multiply with the market) are left as they are.

>>> data = {"market": {"n_customers": 1000}, "firm": {"budget_per_year": 200.0},
...         "employees": {"per_firm": 12}, "policies": [{"budget_per_year": 50.0}]}
>>> out = scale_with_market(data, 0.5, keep={("firm", "budget_per_year")})
>>> out["firm"]["budget_per_year"], out["employees"]["per_firm"], out["policies"][0]
(200.0, 6, {'budget_per_year': 25.0})
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

__all__ = ["SCALED_PATHS", "scale_with_market", "scaled_staff"]

SCALED_PATHS = (
    "firm.budget_per_year",
    "firm.fixed_cost_per_year",
    "competitors.*.budget_per_year",
    "competitors.*.fixed_cost_per_year",
    "competitors.*.policy.budget_per_year",
    "policies.*.budget_per_year",
    "employees.per_firm",
)
"""What scales with the market (``*``: every entry of the list). Budgets buy lever
capacity (contacts, offers, visits, members, exposures), so capacity scales with them;
staff capacity is ``employees.per_firm`` x ``customers_per_employee``."""


def scaled_staff(per_firm: int, factor: float) -> int:
    """Employees per firm in a market ``factor`` times the size: rounded, at least 1 if any.

    >>> scaled_staff(12, 2.0), scaled_staff(12, 0.03), scaled_staff(0, 5.0)
    (24, 1, 0)
    """
    if per_firm <= 0:
        return 0
    return max(1, round(per_firm * factor))


def scale_with_market(
    data: dict[str, Any], factor: float, keep: Collection[tuple[str | int, ...]] = ()
) -> dict[str, Any]:
    """A copy of a scenario file's dump with :data:`SCALED_PATHS` multiplied by ``factor``.

    ``keep``: concrete key paths (tuples of keys and list indices) to leave alone, the
    ones an override sets explicitly. Missing or empty values (a policy without its own
    budget) stay missing.
    """
    out = copy.deepcopy(data)
    for path in SCALED_PATHS:
        for segments, parent in _locate(out, path.split(".")):
            key = segments[-1]
            if tuple(segments) in keep or not isinstance(parent, dict):
                continue
            value = parent.get(key)
            if value is None or isinstance(value, bool):
                continue
            if key == "per_firm":
                parent[key] = scaled_staff(int(value), factor)
            else:
                parent[key] = float(value) * factor
    return out


def _locate(node: Any, parts: list[str]) -> list[tuple[list[str | int], Any]]:
    """(concrete path, the dict holding its last key) for each match of ``parts``."""
    found: list[tuple[list[str | int], Any]] = []

    def walk(here: Any, rest: list[str], done: list[str | int]) -> None:
        if len(rest) == 1:
            if isinstance(here, dict) and rest[0] in here:
                found.append(([*done, rest[0]], here))
            return
        head, tail = rest[0], rest[1:]
        if head == "*":
            if isinstance(here, (list, tuple)):
                for i, item in enumerate(here):
                    walk(item, tail, [*done, i])
        elif isinstance(here, dict) and head in here:
            walk(here[head], tail, [*done, head])

    walk(node, parts, [])
    return found
