"""The record of a step: every measure of every firm, from the step's ledger and state.

Why a module of its own: closing the books reads the whole market (ledger, population,
firms' books, staff and suppliers) and defines every column of the results table, which
is a different concern from the order of a step in :mod:`sim.model.market`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.agents.firms import Firm
from sim.model.behaviour.churn import CHURN_REASONS, REASON_COMPETITOR
from sim.model.kernels.records import TALLIES, assign_tiers, close_pass
from sim.model.metrics import (
    ACQUISITION_CHANNELS,
    SATISFIED,
    TIER_SHARES,
    TIERS,
    TOP_BOX,
    pyramid_counts,
    revenue_floors,
    state_measures,
    tier_thresholds,
)
from sim.model.state import MarketState

__all__ = ["close_step"]


def close_step(
    state: MarketState,
    firms: Sequence[Firm],
    spent: list[dict[str, float]],
    backend: str = "numpy",
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Close the step's books: each firm's customers now, and the step's measures (over
    customers, not everybody).

    Also updates what the step changes for good: every customer's tenure (one step
    more), each firm's customer count, books and experience (cumulative volume), and
    every customer's pyramid tier. `backend`: numpy or numba for the passes over everybody
    (same bytes, :mod:`sim.model.kernels.records`).
    """
    led = state.ledger
    pop = state.population
    sat = state.scenario.market.satisfaction
    shares = np.asarray(TIER_SHARES)
    floors = revenue_floors(pop.firm, pop.annual_revenue, state.n_firms, 1.0 - shares.sum())
    customers_of, tallies, high, revenue_of = close_pass(
        backend,
        pop.firm,
        state.n_firms,
        pop.tenure,
        pop.satisfaction,
        pop.ltr,
        pop.member,
        pop.former_firm,
        pop.aware,
        pop.annual_revenue,
        floors,
        (TOP_BOX, SATISFIED, sat.promoter_min_ltr, sat.detractor_max_ltr, state.steps_per_year),
    )
    measures = state_measures(tallies)
    for firm, n in zip(firms, measures["customers"], strict=True):
        firm.n_customers = int(n)
    thresholds = tier_thresholds(customers_of, pop.annual_revenue, high, backend=backend)
    ranked = assign_tiers(
        backend, customers_of, pop.annual_revenue, pop.tier, thresholds, revenue_of
    )
    pop.tier = ranked["tier"]
    tier_revenue = ranked["revenue"]  # top, big, medium, small
    upgrades, downgrades = ranked["upgrades"], ranked["downgrades"]
    tiers = pyramid_counts(tallies, ranked["counts"], pop.n)
    first_year = tallies[TALLIES.index("first_year")]
    staff = [f.staff_report for f in firms]
    suppliers = [f.suppliers for f in firms]
    books = [
        firm.book(led.revenue[f], led.cogs[f], {k: spent[f].get(k, 0.0) for k in firm.spend})
        for f, firm in enumerate(firms)
    ]
    for f, firm in enumerate(firms):
        firm.gain_experience(float(led.units[f]))  # scale economies: next step's unit cost
    new = sum(led.new.values())
    churned = sum(led.churn.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        record = {
            "customers": measures["customers"],
            "new_customers": new,
            **{f"new_{c}": led.new[c] for c in ACQUISITION_CHANNELS},
            "churned": churned,
            **{f"churned_{r}": led.churn[r] for r in CHURN_REASONS},
            "switched_out": led.churn[CHURN_REASONS[REASON_COMPETITOR]],
            "referrals": led.referrals,
            "referral_conversions": led.referral_conversions,
            "peers_deterred": led.peers_deterred,
            "detractor_episodes": led.detractor_episodes,
            "purchases": led.purchases,
            "repeat_purchase_rate": led.repeat_purchases / led.purchases,
            "member_purchases": led.member_purchases,
            "member_revenue": led.member_revenue,
            **{k: np.array([b[k] for b in books]) for k in books[0]},
            "mean_satisfaction": measures["mean_satisfaction"],
            "nps": measures["nps"],
            "promoters": measures["promoters"],
            "customers_top_box": measures["customers_top_box"],
            "customers_satisfied": measures["customers_satisfied"],
            "churned_top_box": led.churned_top_box,
            "churned_satisfied": led.churned_satisfied,
            "detractors": measures["detractors"],
            "retention_rate": 1.0 - churned / led.customers_at_start,
            "service_failures": led.service_failures,
            "complaints": led.complaints,
            "complaints_resolved": led.complaints_resolved,
            "care_contacts": led.care_contacts,
            "pushy_contacts": led.pushy_contacts,
            "loyalty_members": measures["loyalty_members"],
            "promotion_offers": led.promotion_offers,
            "sales_visits": led.sales_visits,
            "units": led.units,
            "price": np.array([f.price for f in firms]),
            "service_quality": np.array([f.service_quality for f in firms]),
            "product_quality": np.array([f.offer[0] for f in firms]),
            "personnel_quality": np.array([f.offer[2] for f in firms]),
            "unit_cost": np.array([f.unit_cost for f in firms]),
            **tiers,
            **{f"tier_revenue_{t}": tier_revenue[k] for k, t in enumerate(TIERS[:4])},
            "upgrade_offers": led.upgrade_offers,
            "upgrades": led.upgrades,
            "tier_upgrades": upgrades,
            "churned_top_tiers": led.churned_top_tiers,
            "tier_downgrades": downgrades,
            "first_year_customers": first_year,
            "first_year_margin": led.first_year_margin,
            "staff_skill": np.array([r.mean_skill if r else np.nan for r in staff]),
            "staff_morale": np.array([r.mean_morale if r else np.nan for r in staff]),
            "staff_quits": np.array([float(r.quits) if r else np.nan for r in staff]),
            "supplier_quality": np.array(
                [np.mean([x.quality for x in s]) if s else np.nan for s in suppliers]
            ),
            "supplier_reliability": np.array(
                [np.mean([x.reliability for x in s]) if s else np.nan for s in suppliers]
            ),
            "supplier_level": np.array(
                [np.mean([x.level for x in s]) if s else np.nan for s in suppliers]
            ),
            "supply_failures": led.supply_failures,
        }
    return customers_of, record
