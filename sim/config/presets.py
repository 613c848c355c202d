"""Named policy presets: the same budget, split differently between winning and keeping.

A preset is a :class:`~sim.config.schema.Policy`; scenario files build on them by name.
"""

from __future__ import annotations

from sim.config.schema import AcquisitionMix, Policy, RetentionMix

__all__ = ["PRESETS", "get_policy"]

PRESETS: dict[str, Policy] = {
    "acquisition_heavy": Policy(
        name="acquisition_heavy",
        acquisition_share=0.8,
        acquisition_mix=AcquisitionMix(advertising=0.5, promotions=0.3, sales_visits=0.2),
    ),
    "balanced": Policy(name="balanced", acquisition_share=0.5),
    "retention_heavy": Policy(
        name="retention_heavy",
        acquisition_share=0.2,
        retention_mix=RetentionMix(
            care_contacts=0.4, loyalty_program=0.2, complaint_handling=0.2, service_level=0.2
        ),
    ),
    "loyalty_program": Policy(
        name="loyalty_program",
        acquisition_share=0.3,
        retention_mix=RetentionMix(
            care_contacts=0.2, loyalty_program=0.6, complaint_handling=0.1, service_level=0.1
        ),
    ),
    # People policies only: the budget split stays balanced, so the preset measures the
    # service-profit chain (training, pay, promotion -> skill, morale -> service), not a split.
    "service_excellence": Policy(
        name="service_excellence",
        acquisition_share=0.5,
        training_per_employee_year=4000.0,
        pay_level=1.15,
        promotion_opportunity=0.6,
    ),
    "supplier_partnership": Policy(
        name="supplier_partnership",
        supplier_investment_per_year=60_000.0,
        supplier_price_pressure=0.0,
    ),
}
"""Named policies. All spend the same marketing budget; the last two add staff and
supplier investment on top, which the books charge."""


def get_policy(policy: str | Policy) -> Policy:
    """Return a Policy given a preset name or a Policy (passed through)."""
    if isinstance(policy, Policy):
        return policy
    try:
        return PRESETS[policy]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"unknown policy preset '{policy}'; known presets: {known}") from None
