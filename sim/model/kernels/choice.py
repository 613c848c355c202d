"""Non-customers' choice among the firms they consider this step (numpy or numba).

The numpy form is the reference (:func:`choice_utilities`, :func:`choose_firm`); the
numba form builds the flags and the logit weights of the considering people in one
compiled pass, takes numpy's exp, and chooses in a second pass with numpy's uniforms
drawn at the same point of the stream, so both give the same bytes (issue 14).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.behaviour.value import choice_utilities, choose_firm
from sim.model.kernels import numba_kernels

__all__ = ["CHANNELS", "WON_FIELDS", "choose", "mark_aware", "non_customers", "win"]

CHANNELS = ("sales_visit", "promotion", "advertising", "organic")
"""The channel of a choice, by code: what made the person consider the firm they chose."""


def non_customers(backend: str, firm: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the people with no firm: ``np.flatnonzero(firm < 0)``.

    >>> non_customers("numpy", np.array([0, -1, 2, -1], dtype=np.int16)).tolist()
    [1, 3]
    """
    if backend == "numba":
        found: np.ndarray = numba_kernels().choice.non_customers(firm)
        return found
    return np.flatnonzero(firm < 0)


def mark_aware(backend: str, aware: np.ndarray, people: np.ndarray, firm: int) -> None:
    """``aware[people, firm] = True`` (in place)."""
    if backend == "numba":
        numba_kernels().choice.mark_aware(aware, np.asarray(people, dtype=np.int64), int(firm))
        return
    aware[people, firm] = True


def choose(
    backend: str,
    who: np.ndarray,
    events: tuple[Sequence[np.ndarray], Sequence[np.ndarray], Sequence[np.ndarray]],
    values: np.ndarray,
    aware: np.ndarray,
    deterred: np.ndarray,
    sensitivities: tuple[float, float, float, float],
    outside_utility: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The firm each considering person `who` (ascending, distinct) chooses (-1: none)
    and the channel code of the choice (:data:`CHANNELS`; -1: none).

    `events` = (ads, offers, visits): per firm, the people among `who` who considered it
    after an ad, took up its promotion offer, or had its sales visit; `values` the
    delivered value of each firm's offer to each of `who`; `aware` and `deterred` the
    population's arrays. Utilities as :func:`choice_utilities`, choice as
    :func:`choose_firm` (one uniform per person); the channel is the first of a visit, a
    promotion offer, an ad of the chosen firm, else organic.
    """
    ads, offers, visits = events
    n_firms = values.shape[1]
    if backend == "numba" and who.size:
        kernels = numba_kernels().choice
        lists = [*ads, *offers, *visits]
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([x.size for x in lists], out=offsets[1:])
        flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
        v = float(sensitivities[0]), float(sensitivities[1])
        p = float(sensitivities[2]), float(sensitivities[3])
        weight, flags = kernels.logit_weights(
            np.asarray(who, dtype=np.int64), flat, offsets, values, aware, deterred,
            v[0], v[1], p[0], p[1], float(outside_utility),
        )  # fmt: skip
        np.exp(weight, out=weight)
        r = rng.random(who.size)
        result: tuple[np.ndarray, np.ndarray] = kernels.logit_choice(weight, r, flags)
        return result
    ad_consider = np.zeros((who.size, n_firms), dtype=bool)
    offered = np.zeros_like(ad_consider)
    visited = np.zeros_like(ad_consider)
    for f in range(n_firms):
        ad_consider[np.searchsorted(who, ads[f]), f] = True
        offered[np.searchsorted(who, offers[f]), f] = True
        visited[np.searchsorted(who, visits[f]), f] = True
    utilities = choice_utilities(values, deterred[who], offered, visited, aware[who], sensitivities)
    choice = choose_firm(utilities, outside_utility, rng)
    rows = np.flatnonzero(choice >= 0)
    chosen = choice[rows]
    channel = np.full(who.size, -1, dtype=np.int64)
    channel[rows] = np.select(
        [visited[rows, chosen], offered[rows, chosen], ad_consider[rows, chosen]],
        [0, 1, 2],
        default=3,
    )
    return choice, channel


WON_FIELDS = (
    "firm",
    "aware",
    "tenure",
    "acquired_step",
    "last_care",
    "referred",
    "promotion_won",
    "member",
    "has_purchased",
    "unresolved_complaint",
    "satisfaction",
    "expectation",
    "ltr",
    "ltr_bias",
    "in_detractor_episode",
    "revenue_with_firm",
    "tier",
    "churn_due",
    "purchase_due",
)
"""The population arrays :func:`win` reads or writes, in the order its numba form takes."""


def win(
    backend: str,
    idx: np.ndarray,
    firms: np.ndarray,
    own_value: np.ndarray,
    people: dict[str, np.ndarray],
    step: int,
    flags: tuple[bool, bool],
    satisfaction: float,
    never: int,
) -> np.ndarray:
    """People `idx` become customers of `firms` (in place); returns the count per firm.

    `flags` = (referred, won by a promotion) for all of them; they start at
    `satisfaction` with their recommend score from it, expect `own_value`, and have
    their churn and purchase waits drawn at the next phases (`never`). A person listed
    twice ends as the last listing says (as numpy's fancy assignment).
    """
    n_firms = people["aware"].shape[1]
    idx = np.asarray(idx, dtype=np.int64)
    firms = np.broadcast_to(np.asarray(firms, dtype=np.intp), idx.shape)
    own_value = np.broadcast_to(np.asarray(own_value, dtype=float), idx.shape)
    if backend == "numba":
        counts: np.ndarray = numba_kernels().choice.win(
            idx,
            np.ascontiguousarray(firms),
            np.ascontiguousarray(own_value),
            int(step),
            bool(flags[0]),
            bool(flags[1]),
            float(satisfaction),
            int(never),
            *(people[name] for name in WON_FIELDS),
        )
        return counts
    p = people
    p["firm"][idx] = firms
    p["aware"][idx, firms] = True
    p["tenure"][idx] = 0
    p["acquired_step"][idx] = step
    p["last_care"][idx] = step
    p["referred"][idx] = flags[0]
    p["promotion_won"][idx] = flags[1]
    p["member"][idx] = False
    p["has_purchased"][idx] = False
    p["unresolved_complaint"][idx] = False
    p["satisfaction"][idx] = satisfaction
    p["expectation"][idx] = own_value
    p["ltr"][idx] = likelihood_to_recommend(p["satisfaction"][idx], p["ltr_bias"][idx])
    p["in_detractor_episode"][idx] = False
    p["revenue_with_firm"][idx] = 0.0
    p["tier"][idx] = -1
    p["churn_due"][idx] = never
    p["purchase_due"][idx] = never
    return np.bincount(firms, minlength=n_firms)
