"""What firms do to people each step, the same for both engines.

Firms care for their customers, run their loyalty programs, handle complaints and send
promotions and sales visits. Each action spends from a lever's budget, changes the
population in the :class:`sim.model.state.MarketState`, counts its events in the step's
ledger and records what it spent in `spent` (one dict per firm, lever -> money); what a
lever could not place (too few complaints, prospects, takers) it tells its firm
(:meth:`~sim.model.agents.firms.Firm.place`), which passes it on to other levers.
Why here and not in an engine: these are firm decisions over whole customer lists,
identical whichever engine runs the customers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.agents.firms import Firm
from sim.model.behaviour.levers import (
    closeness_to_next_tier,
    enrolment_probability,
    saturation_share,
    select_longest_waiting,
    select_random,
    upgrade_eligible,
    upgrade_success_probability,
)
from sim.model.kernels import kernel_backend
from sim.model.kernels.actions import (
    CEILING_LEVELS,
    apply_care,
    complaint_cases,
    find_prospects,
    loyalty_acceptors,
    select_for_care,
    split_members,
)
from sim.model.state import MarketState

__all__ = [
    "care_for_customers",
    "enrolment_ceiling",
    "handle_complaints",
    "run_loyalty_programs",
    "sell_upgrades",
    "send_acquisition_offers",
]

Spent = list[dict[str, float]]


def care_for_customers(
    state: MarketState, firms: Sequence[Firm], customers_of: list[np.ndarray], spent: Spent
) -> None:
    """Each firm spends its care budget on the customers it neglected longest.

    A share of the contacts (the policy's key-account share) goes first to the top and
    big tiers, then the rest to whoever waited longest. Of the contacts paid for, a share
    lands that falls with contacts per customer-year (a saturating response); the rest
    reach nobody (voicemail, the wrong moment).
    """
    pop, rng, now = state.population, state.rng, state.step
    lev = state.scenario.market.levers
    backend = kernel_backend(pop.n)
    weeks_per_step = 52.0 / state.steps_per_year
    none = np.empty(0, dtype=np.int64)
    for f, firm in enumerate(firms):
        mine = customers_of[f]
        k = firm.capacity("care_contacts", lev.care_contact)
        # Positions in `mine` are selected (the same draws as selecting the people).
        first = none
        k_key = round(k * firm.policy.key_account_share)
        if k_key > 0:  # key accounts: top and big tiers, not contacted too recently
            first = _select(state, backend, mine, True, none, k_key)
        chosen = _select(state, backend, mine, False, first, k - first.size)
        targets = mine[np.concatenate([first, chosen])]
        per_year = k * state.steps_per_year / max(mine.size, 1)
        landed = rng.random(targets.size) < saturation_share(per_year, lev.care_saturation_per_year)
        paid = targets.size
        targets = targets[landed]
        pushy = apply_care(
            backend,
            targets,
            pop.satisfaction,
            pop.last_care,
            pop.unresolved_complaint,
            now,
            weeks_per_step,
            boost=lev.care_boost,
            min_interval_weeks=lev.care_min_interval_weeks,
            spam_penalty=lev.spam_penalty,
        )
        state.ledger.care_contacts[f] = targets.size
        state.ledger.pushy_contacts[f] = pushy
        spent[f]["care_contacts"] = firm.place("care_contacts", k, paid, lev.care_contact)


def _select(
    state: MarketState, backend: str, mine: np.ndarray, key: bool, excluded: np.ndarray, k: int
) -> np.ndarray:
    """Positions in `mine` of the k customers to care for (:func:`select_for_care`):
    with `key`, among the key accounts not contacted within the minimum interval (all of
    them when there are k or fewer); otherwise among all but `excluded`."""
    pop, lev = state.population, state.scenario.market.levers
    return select_for_care(
        backend,
        mine,
        pop.last_care,
        pop.tier,
        state.step,
        52.0 / state.steps_per_year,
        lev.care_min_interval_weeks,
        key,
        excluded,
        k,
        state.rng,
    )


def run_loyalty_programs(
    state: MarketState,
    firms: Sequence[Firm],
    customers_of: list[np.ndarray],
    spent: Spent,
    ceiling: np.ndarray | None = None,
) -> None:
    """Offer membership while the budget pays for more members; customers choose to join.

    Non-members are offered membership and accept with a probability rising with their
    purchase rate, mean spend and satisfaction
    (:func:`~sim.model.behaviour.levers.enrolment_probability`), so members select
    themselves; when more accept than there are free places, the places go to acceptors
    drawn at random (the first acceptors of offers made in random order). Over capacity,
    random members are dropped. A firm pays for the members it has.

    ``ceiling`` (optional, :func:`enrolment_ceiling`): each person's acceptance chance
    at full satisfaction, an upper bound of the chance, so that the chance itself is only
    computed for the people whose uniform draw falls below it (the same decisions).
    """
    pop, rng = state.population, state.rng
    lev = state.scenario.market.levers
    backend = kernel_backend(pop.n)
    cost_per_step = lev.loyalty_member_per_year / state.steps_per_year
    for f, firm in enumerate(firms):
        mine = customers_of[f]
        capacity = int(firm.spend["loyalty_program"] / cost_per_step)
        members, others = split_members(backend, mine, pop.member)
        n_members = members.size
        if n_members > capacity:
            drop = select_random(members, n_members - capacity, rng)
            pop.member[drop] = False
            n_members -= drop.size
        elif n_members < capacity:
            accept = _acceptors(state, others, ceiling, backend)
            accept = select_random(accept, capacity - n_members, rng)
            pop.member[accept] = True
            n_members += accept.size
        spent[f]["loyalty_program"] = firm.place(
            "loyalty_program", capacity, n_members, cost_per_step
        )


def enrolment_ceiling(state: MarketState) -> np.ndarray:
    """Each person's chance of accepting a membership offer at satisfaction 1, slightly
    raised and rounded up to 255ths: at least their chance at any satisfaction (the
    weight is not negative). Returns the 255ths (uint8; the bound is
    :data:`~sim.model.kernels.actions.CEILING_LEVELS` at it).

    Purchase rate and spend are traits drawn once, so this is computed once per run
    (:class:`~sim.model.market.MarketModel` does, at its first step, after a calibration
    hold-out has set fitted traits); the raise (a millionth) absorbs rounding. Why one
    byte: each firm's offers read the ceiling of all its non-members every step, a sweep
    over the array's memory per firm; 1 byte per person is a quarter of float32's, and
    rounding up to 255ths lets through only 0.2 % more offers to the exact chance.
    """
    pop, lev = state.population, state.scenario.market.levers
    at_full = enrolment_probability(
        pop.purchase_rate / state.mean_purchase_rate,
        pop.base_spend / state.mean_spend,
        np.ones(pop.n),
        log_odds=lev.enrol_log_odds,
        rate_weight=lev.enrol_rate_weight,
        spend_weight=lev.enrol_spend_weight,
        satisfaction_weight=lev.enrol_satisfaction_weight,
    )
    ceiling = np.minimum(at_full * (1.0 + 1e-6) + 1e-12, 1.0)
    steps = np.ceil(ceiling * 255.0).astype(np.uint8)
    # a product rounded down onto a whole step: the next step up (still at most 255)
    return np.where(CEILING_LEVELS[steps] < ceiling, steps + 1, steps).astype(np.uint8)


def _acceptors(
    state: MarketState,
    offered: np.ndarray,
    ceiling: np.ndarray | None,
    backend: str = "numpy",
) -> np.ndarray:
    """The people of `offered` who accept a membership offer this step (in `offered`'s order).

    One uniform draw per person offered, accepted below their enrolment probability.
    Why the ceiling: about 2 % accept in a step, and a draw at or above a person's
    ceiling is at or above their probability, so the probability (two logarithms and an
    exponential of three gathered traits) is computed for the few below the ceiling only
    (:func:`~sim.model.kernels.actions.loyalty_acceptors`).
    """
    lev = state.scenario.market.levers
    pop = state.population
    u = state.rng.random(offered.size)
    return loyalty_acceptors(
        backend,
        offered,
        u,
        np.full(pop.n, 255, dtype=np.uint8) if ceiling is None else ceiling,
        pop.purchase_rate,
        pop.base_spend,
        pop.satisfaction,
        mean_purchase_rate=state.mean_purchase_rate,
        mean_spend=state.mean_spend,
        log_odds=lev.enrol_log_odds,
        rate_weight=lev.enrol_rate_weight,
        spend_weight=lev.enrol_spend_weight,
        satisfaction_weight=lev.enrol_satisfaction_weight,
    )


def sell_upgrades(
    state: MarketState, firms: Sequence[Firm], customers_of: list[np.ndarray], spent: Spent
) -> None:
    """Each firm spends its upgrade budget on cross-/up-selling offers (Curry's pyramid, F3).

    Offers go to the eligible customers (a tier below the top, not yet upgraded in this
    relationship, not offered one lately) nearest the entry of the tier above, nearest
    first. An offer succeeds with the base success rate times the share that lands at
    this many offers per customer-year (the saturating response); a success raises the
    customer's spend per purchase durably by `upgrade_spend_gain`, so over the following
    year their revenue, and with it their tier, moves up. Offers bought beyond the eligible
    customers are not placed (:meth:`~sim.model.agents.firms.Firm.place`).
    """
    pop, rng, now = state.population, state.rng, state.step
    lev = state.scenario.market.levers
    interval = lev.upgrade_interval_weeks * state.steps_per_year / 52.0
    for f, firm in enumerate(firms):
        if firm.spend["upgrades"] <= 0.0:
            continue
        mine = customers_of[f]
        k = firm.capacity("upgrades", lev.upgrade_contact)
        tier = pop.tier[mine]
        ok = upgrade_eligible(
            tier,
            pop.upgraded_step[mine],
            pop.upgrade_offered_step[mine],
            pop.acquired_step[mine],
            now,
            interval,
        )
        eligible = np.compress(ok, mine)
        near = np.compress(ok, closeness_to_next_tier(pop.annual_revenue[mine], tier))
        offered = select_longest_waiting(eligible, near, k, rng)
        per_year = offered.size * state.steps_per_year / max(mine.size, 1)
        p = upgrade_success_probability(
            per_year, lev.upgrade_success, lev.upgrade_saturation_per_year
        )
        won = offered[rng.random(offered.size) < p]
        pop.upgrade_offered_step[offered] = now
        pop.upgraded_step[won] = now
        state.ledger.upgrade_offers[f] = offered.size
        state.ledger.upgrades[f] = won.size
        spent[f]["upgrades"] = firm.place("upgrades", k, offered.size, lev.upgrade_contact)


def handle_complaints(
    state: MarketState,
    firms: Sequence[Firm],
    buyers: np.ndarray,
    complained: np.ndarray,
    spent: Spent,
) -> np.ndarray:
    """Firms handle complaints up to what their budget pays for; outcome per buyer.

    The share of handled complaints resolved falls with complaints handled per
    customer-year (a saturating response: stretched handling resolves less).
    Returns 0 (no complaint), 1 (handled and resolved) or 2 (not resolved).
    """
    pop, rng = state.population, state.rng
    comp = state.scenario.market.complaints
    lev = state.scenario.market.levers
    outcome = complained.astype(np.int8) * np.int8(2)  # 0 no complaint, 2 not resolved
    cases_of = complaint_cases(kernel_backend(pop.n), buyers, complained, pop.firm, len(firms))
    for f, firm in enumerate(firms):
        cases = cases_of[f]
        k = firm.capacity("complaint_handling", lev.complaint_handling)
        handled = select_random(cases, k, rng)
        per_year = handled.size * state.steps_per_year / max(firm.n_customers, 1)
        share = saturation_share(per_year, lev.complaint_saturation_per_year)
        resolved = handled[rng.random(handled.size) < comp.p_recovery * share]
        outcome[resolved] = 1
        state.ledger.complaints[f] = cases.size
        state.ledger.complaints_resolved[f] = resolved.size
        spent[f]["complaint_handling"] = firm.place(
            "complaint_handling", k, handled.size, lev.complaint_handling
        )
    return outcome


def send_acquisition_offers(
    state: MarketState, firms: Sequence[Firm], spent: Spent
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Firms send promotions to non-customers and sales visits to their aware prospects.

    Of the offers and visits paid for, a share reaches its receiver that falls with offers
    (visits) per prospect-year: the saturating response of every acquisition channel.
    Returns, per firm, the people reached by a promotion and the people visited.
    """
    pop, rng = state.population, state.rng
    lev = state.scenario.market.levers
    found = find_prospects(kernel_backend(pop.n), pop.firm, pop.aware)
    prospects = found.people
    promotion_targets: list[np.ndarray] = []
    visit_targets: list[np.ndarray] = []
    for f, firm in enumerate(firms):
        k = firm.capacity("promotions", lev.promotion_offer)
        offered = select_random(prospects, k, rng)
        n_aware = int(found.n_aware[f])
        k_visits = firm.capacity("sales_visits", lev.sales_visit)
        # ranks among the aware prospects: select_random's draws on a list of n_aware
        visited = _random_ranks(n_aware, k_visits, rng)
        spy = state.steps_per_year
        offer_share = saturation_share(
            offered.size * spy / max(prospects.size, 1), lev.promotion_saturation_per_year
        )
        visit_share = saturation_share(
            visited.size * spy / max(n_aware, 1), lev.sales_visit_saturation_per_year
        )
        promotion_targets.append(offered[rng.random(offered.size) < offer_share])
        reached = visited[rng.random(visited.size) < visit_share]
        visit_targets.append(found.aware_at(pop.aware, f, reached))
        state.ledger.promotion_offers[f] = offered.size
        state.ledger.sales_visits[f] = visited.size
        spent[f]["promotions"] = firm.place("promotions", k, offered.size, lev.promotion_offer)
        spent[f]["sales_visits"] = firm.place(
            "sales_visits", k_visits, visited.size, lev.sales_visit
        )
    return promotion_targets, visit_targets


def _random_ranks(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Ranks (0..n-1) of up to k of n candidates drawn uniformly: the positions that
    :func:`~sim.model.behaviour.levers.select_random` takes from a list of n, with the
    same draws (``rng.choice(n)`` draws what ``rng.choice(list)`` does), without the list.

    >>> _random_ranks(3, 5, np.random.default_rng(0)).tolist()
    [0, 1, 2]
    """
    if k >= n:
        return np.arange(n)
    return rng.choice(n, size=k, replace=False)
