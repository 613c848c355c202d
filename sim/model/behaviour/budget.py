"""Equal spend: money a lever cannot place goes to the levers that can (issue 10, item 4).

A lever cannot always place its share of the budget: complaint handling is paid per
complaint and there are only so many complaints, the loyalty program pays for members and
only so many customers accept, promotions and sales visits need prospects, care contacts
need customers. Money left in such a line is not profit the policy earned: comparing a
policy that cannot spend its budget with one that can would credit the first with savings
it never chose. So what a line could not place in one step is added to the next step's
lines that did place all of theirs, in proportion to their planned spend (the policy's own
shares): first the lines of the same side (acquisition or retention), so the split the
policy chose holds, then the other side's. What no line can take is left unspent and
reported (``budget_unspent`` in the timeseries, and the report's headline says so).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

__all__ = ["reallocate_unplaced"]


def reallocate_unplaced(
    unplaced: Mapping[str, float],
    planned: Mapping[str, float],
    sides: Sequence[Sequence[str]],
    short: Collection[str] | None = None,
) -> tuple[dict[str, float], float]:
    """Where money the lines could not place goes next: (extra per line, money left unspent).

    ``unplaced``: money each line could not place this step (missing or 0: none; negative:
    it rounded up to a whole unit beyond its spend, which the takers give back);
    ``planned``: each line's planned spend this step, the weights (the policy's shares);
    ``sides``: the lines of each side, e.g. (acquisition levers, retention levers);
    ``short``: the lines that could not place all they bought (default: those with
    unplaced money; a line left with less than one unit's cost is not short). A line takes
    money only if it is not short and was planned some (a share of 0 stays 0: the policy
    chose not to use it). Each side's unplaced money goes to its own
    takers in proportion to their planned spend; a side without takers passes it to the
    other sides' takers, in proportion to theirs; with no taker anywhere it is unspent.

    >>> sides = (("ads", "promo"), ("care", "complaints"))
    >>> planned = {"ads": 60.0, "promo": 40.0, "care": 30.0, "complaints": 10.0}
    >>> reallocate_unplaced({"promo": 20.0, "complaints": 4.0}, planned, sides)
    ({'ads': 20.0, 'care': 4.0}, 0.0)
    >>> reallocate_unplaced({"care": 9.0, "complaints": 4.0}, planned, sides)
    ({'ads': 7.8, 'promo': 5.2}, 0.0)
    >>> reallocate_unplaced({"ads": 1.0, "promo": 2.0, "care": 3.0, "complaints": 4.0},
    ...                     planned, sides)
    ({}, 10.0)
    >>> reallocate_unplaced({"promo": 20.0, "care": 0.5}, planned, sides, short={"promo"})
    ({'ads': 20.0, 'care': 0.375, 'complaints': 0.125}, 0.0)
    """
    extra: dict[str, float] = {}
    unspent = 0.0
    shorts = {k for k, v in unplaced.items() if v > 0.0} if short is None else set(short)

    def takers(lines: Sequence[str]) -> dict[str, float]:
        return {
            k: planned.get(k, 0.0) for k in lines if k not in shorts and planned.get(k, 0.0) > 0.0
        }

    for s, side in enumerate(sides):
        money = sum(unplaced.get(k, 0.0) for k in side)
        if money == 0.0:
            continue
        weights = takers(side)
        if not weights:
            weights = takers([k for o, other in enumerate(sides) if o != s for k in other])
        total = sum(weights.values())
        if total <= 0.0:
            unspent += money
            continue
        for k, w in weights.items():
            extra[k] = extra.get(k, 0.0) + money * w / total
    return extra, unspent
