"""The validated, immutable description of one market experiment.

A :class:`Scenario` holds every parameter the model reads, each with a documented
default, a unit and a range. Rates are given in natural units (per year, per customer)
and converted to per-step values by the model. Unknown keys are errors, so a typo can
never pass silently. The TOML loader (:mod:`sim.config.scenario_file`) fills these objects; the model
never reads files. Units are :class:`~sim.config.units.Unit` markers in the annotations.

Longer than 500 lines on purpose: it is one declarative list of every parameter the model
reads (a default, range, unit and meaning each), and it reads best as one reference.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.config.graph_files import FILE_GRAPH_KINDS, GraphKind
from sim.config.keypaths import KeyPathError, UnknownKeyError, set_path, split_path
from sim.config.units import NonNegative, Positive, Probability, Unit

__all__ = [
    "GENERATED_DEGREE_KINDS",
    "MAX_FIRMS",
    "MAX_PEOPLE",
    "MAX_REPLICATIONS",
    "MAX_STEPS",
    "STEPS_PER_YEAR",
    "AcquisitionMix",
    "AdvertisingSpec",
    "ChurnSpec",
    "CompetitorSpec",
    "ComplaintSpec",
    "EmployeeSpec",
    "ExperienceSpec",
    "FirmSpec",
    "HeterogeneitySpec",
    "LeverCosts",
    "MarketSpec",
    "NetworkSpec",
    "Policy",
    "ReactionSpec",
    "RetentionMix",
    "SatisfactionSpec",
    "Scenario",
    "ScenarioSections",
    "SimulationSpec",
    "Spec",
    "SupplierSpec",
    "WordOfMouthSpec",
    "degree_problem",
]

STEPS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4}
"""Steps in one year for each ``simulation.step_length``."""

MAX_FIRMS = 127
"""The engine stores a customer's firm in an int8, so at most 127 firms (focal included)."""


MAX_PEOPLE = 2**31 - 1
"""The engine indexes people with int32 (the social graph's CSR), so at most this many."""

MAX_STEPS = 1_000_000
"""Most steps of a run: 2,700 years of days; more is a typo, not a market."""

MAX_REPLICATIONS = 1_000_000_000
"""Most replications per policy and market a file may ask for; far fewer fit in memory
(see :mod:`sim.config.limits`), this bound only keeps the arithmetic finite."""

GENERATED_DEGREE_KINDS = ("watts_strogatz", "erdos_renyi", "barabasi_albert")
"""Generated graph kinds whose ``mean_degree`` must stay below the market size."""


class Spec(BaseModel):
    """Base for every block of a scenario or scenario file: immutable, validated, no unknown
    keys, and finite numbers only (``nan``, ``inf`` and ``-inf`` are valid TOML but no
    market has them; the one rule for every float, in lists and tables too)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


def degree_problem(kind: str, mean_degree: int, n_customers: int) -> str | None:
    """Why a generated graph of ``n_customers`` people cannot have ``mean_degree``, or None.

    >>> degree_problem("watts_strogatz", 10, 8)  # doctest: +ELLIPSIS
    'got 10, expected less than market.n_customers = 8 ...'
    >>> degree_problem("complete", 10, 8) is None
    True
    """
    if kind in GENERATED_DEGREE_KINDS and mean_degree >= n_customers and mean_degree > 0:
        return (
            f"got {mean_degree}, expected less than market.n_customers = {n_customers} "
            "(nobody can have more contacts than there are other people); use a smaller "
            'mean_degree, a larger market or kind = "complete"'
        )
    return None


def _check_mix(values: dict[str, float], what: str) -> None:
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        parts = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ValueError(f"{what} shares must sum to 1, got {total:g} ({parts})")


class SimulationSpec(Spec):
    """How long, how finely and how often to run."""

    steps: Annotated[int, Unit("steps")] = Field(
        156,
        ge=1,
        le=MAX_STEPS,
        description="Number of steps to simulate (156 weeks = 3 years).",
    )
    step_length: Literal["day", "week", "month", "quarter"] = Field(
        "week", description="Length of one step; per-year rates are converted with it."
    )
    start_date: str = Field(
        "2025-01-01",
        description=(
            "Calendar date the first step starts on (ISO YYYY-MM-DD; a TOML date works too): "
            "dates of the transaction log ([outputs] transactions) count from it."
        ),
    )
    seed: Annotated[int, Unit("")] = Field(
        12345, ge=0, description="Seed of the model's random generator (the only source of draws)."
    )
    replications: Annotated[int, Unit("replications")] = Field(
        10,
        ge=1,
        le=MAX_REPLICATIONS,
        description="Replications per policy when an experiment runs this scenario.",
    )
    engine: Literal["vectorized", "agent"] = Field(
        "vectorized",
        description="'vectorized' (numpy arrays, fast) or 'agent' (per-customer Mesa reference).",
    )

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueError(
                    f"expected a date as YYYY-MM-DD (e.g. 2025-01-01), got {value!r}"
                ) from None
        return value

    @property
    def steps_per_year(self) -> int:
        """Steps in one year for the chosen step length."""
        return STEPS_PER_YEAR[self.step_length]


class NetworkSpec(Spec):
    """The social graph customers talk on (see sim.model.network)."""

    kind: GraphKind = Field("watts_strogatz", description="Graph family, or a user's graph file.")
    mean_degree: int = Field(10, ge=0, description="Mean number of close contacts per customer.")
    rewire_p: Probability = Field(
        0.1, description="Watts-Strogatz rewiring probability (small-world shortcuts)."
    )
    path: str | None = Field(
        None,
        description=(
            f"Graph file for kind {' or '.join(repr(k) for k in FILE_GRAPH_KINDS)} "
            "(nodes become customers)."
        ),
    )
    skip_malformed: bool = Field(
        False,
        description=(
            "Edge list only: skip lines that are not edges ('u v', then numeric weights if "
            "any) instead of refusing the file, where each is an error naming its line."
        ),
    )
    weak_tie_share: Probability = Field(
        0.5,
        description=(
            "Share of word-of-mouth contacts made through weak ties: a random member of the "
            "market outside one's neighbourhood (Goldenberg, Libai & Muller 2001)."
        ),
    )

    @model_validator(mode="after")
    def _path_for_files(self) -> Self:
        if self.kind in FILE_GRAPH_KINDS and not self.path:
            raise ValueError(f"network kind '{self.kind}' needs a 'path' to the graph file")
        if self.kind not in FILE_GRAPH_KINDS and self.path:
            files = " or ".join(f'"{k}"' for k in FILE_GRAPH_KINDS)
            raise ValueError(
                f'network \'path\' = "{self.path}" is given, but kind "{self.kind}" is a '
                f"generated graph that reads no file; set kind = {files} to read the file, "
                "or remove 'path'"
            )
        if self.kind == "watts_strogatz" and self.mean_degree % 2:
            raise ValueError(
                f"watts_strogatz needs an even mean_degree (k/2 neighbours each side), got {self.mean_degree}"
            )
        if self.kind == "barabasi_albert" and self.mean_degree < 2:
            raise ValueError(f"barabasi_albert needs mean_degree >= 2, got {self.mean_degree}")
        return self


class SatisfactionSpec(Spec):
    """Expectation-disconfirmation: satisfaction from perceived performance vs. expectation."""

    expectation_weight: NonNegative = Field(
        4.0,
        description="Sensitivity of a purchase's satisfaction to performance minus expectation.",
    )
    desire_weight: NonNegative = Field(
        3.0, description="Sensitivity to performance minus the customer's desired level."
    )
    desired_value: Annotated[float, Unit("value units")] = Field(
        0.15, description="Delivered value the average customer desires (value units, about -1..1)."
    )
    baseline: Annotated[float, Unit("log-odds")] = Field(
        1.8, description="Log-odds of satisfaction when performance meets both."
    )
    disposition_sd: NonNegative = Field(
        1.3,
        description=(
            "Spread (sd, log-odds) of people's stable disposition to be satisfied, added to "
            "the baseline: satisfaction is skewed toward the top with lasting individual "
            "differences (Peterson & Wilson 1992, J. Academy of Marketing Science 20(1))."
        ),
    )
    learning_rate: Probability = Field(
        0.25, description="Weight of one purchase's experience in overall satisfaction."
    )
    expectation_learning_rate: Probability = Field(
        0.1, description="How fast expectations move toward experienced performance."
    )
    performance_noise: NonNegative = Field(
        0.15, description="Standard deviation of one purchase's perceived performance."
    )
    ltr_noise: NonNegative = Field(
        0.6, description="Spread of customers' personal bias on the 0-10 recommend scale."
    )
    promoter_min_ltr: Annotated[int, Unit("points, 0-10")] = Field(
        9, ge=0, le=10, description="Likelihood to recommend at or above which a customer promotes."
    )
    detractor_max_ltr: Annotated[int, Unit("points, 0-10")] = Field(
        6,
        ge=-1,
        le=10,
        description="Likelihood to recommend at or below which a customer detracts.",
    )


class WordOfMouthSpec(Spec):
    """Referrals from promoters and deterrence from detractors (FACTS F1)."""

    referrals_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        10.0, description="Contacts a promoter tells about the firm per year (potential deals)."
    )
    p_referral_conversion: Probability = Field(
        0.6,
        description=(
            "Chance a person not buying anywhere, told by a close contact (a strong tie), "
            "becomes a customer (a rival's customer also needs the offer to beat their "
            "switching cost); with weak ties' lower rate about 1 in 8 told convert."
        ),
    )
    weak_tie_conversion_ratio: Probability = Field(
        0.5,
        description=(
            "A weak tie's referral converts with this share of a strong tie's chance: "
            "strong ties are more influential per referral (Brown & Reingen 1987, J. "
            "Consumer Research 14(3)), so whether weak ties speed diffusion (Goldenberg, "
            "Libai & Muller 2001) is a result, not a construction."
        ),
    )
    peers_deterred_per_episode: Annotated[NonNegative, Unit("people")] = Field(
        25.0, description="Peers a customer tells when they become dissatisfied (F1: 25)."
    )
    deterrence_half_life_weeks: Annotated[Positive, Unit("weeks")] = Field(
        26.0, description="Half-life of a peer's deterrence against the firm, in weeks."
    )
    deterrence_utility: Annotated[NonNegative, Unit("utility")] = Field(
        2.0, description="Utility penalty on a firm for a fully deterred prospect."
    )
    referral_trust_utility: Annotated[NonNegative, Unit("utility")] = Field(
        2.0,
        description=(
            "Utility a friend's recommendation adds when a rival's customer weighs switching "
            "(people trust friends more than advertising, F1)."
        ),
    )
    referred_churn_multiplier: Annotated[NonNegative, Unit("relative")] = Field(
        0.75,
        description="Churn hazard of referred customers relative to others (they stay longer).",
    )


class ChurnSpec(Spec):
    """Why and how fast customers leave: competing hazards (rates) per year.

    A hazard h per year gives a chance 1 - exp(-h) of leaving within a year and
    1 - exp(-h / steps_per_year) within one step, so a hazard above 1 is valid (h = 2:
    86% leave within a year); see sim.model.behaviour.churn.draw_churn.
    """

    base_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.02,
        description=(
            "Hazard per year of leaving for reasons outside the model (moving away, no "
            "longer needing the product)."
        ),
    )
    dissatisfaction_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.6, description="Hazard per year of leaving of a fully dissatisfied customer."
    )
    satisfaction_convexity: Positive = Field(
        2.5,
        description=(
            "Exponent on (1 - satisfaction): loyalty is convex at the top, very satisfied "
            "customers rarely leave (Heskett et al. 1994)."
        ),
    )
    neglect_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        2.6,
        description=(
            "Hazard per year of leaving for lack of care of a customer long neglected (no "
            "care contact) at satisfaction 0.7."
        ),
    )
    neglect_weeks: Annotated[Positive, Unit("weeks")] = Field(
        26.0, description="Weeks without care after which neglect is about 63% of its maximum."
    )
    neglect_satisfaction_exponent: NonNegative = Field(
        3.0,
        description=(
            "How much satisfaction protects against neglect: the neglect hazard scales with "
            "((1 - satisfaction) / 0.3) to this power (0 = not at all)."
        ),
    )
    unresolved_complaint_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.5, description="Extra hazard per year of leaving while a complaint is unresolved."
    )
    price_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.6,
        description="Extra hazard per year of leaving per 100% of price above the reference price.",
    )
    member_churn_reduction: Probability = Field(
        0.05,
        description=(
            "Share by which membership itself lowers every churn hazard: small, as the "
            "causal effect of programs is (Leenheer et al. 2007; Sharp & Sharp 1997, IJRM "
            "14(5): little excess loyalty); most members' loyalty is who joins."
        ),
    )
    promotion_churn_multiplier: Annotated[NonNegative, Unit("relative")] = Field(
        1.5, description="Churn hazard of customers won by a promotion relative to others."
    )


class ComplaintSpec(Spec):
    """Service failures, complaints and their recovery."""

    p_complain: Probability = Field(0.5, description="Chance a customer complains after a failure.")
    failure_penalty: Annotated[NonNegative, Unit("value units")] = Field(
        0.6, description="Drop of perceived performance (value units) in a failed service."
    )
    p_recovery: Probability = Field(
        0.85, description="Chance a handled complaint is resolved to the customer's content."
    )
    recovery_bonus: NonNegative = Field(
        0.05, description="Satisfaction gain above the old level after a good recovery."
    )
    unresolved_penalty: NonNegative = Field(
        0.15, description="Satisfaction lost when a complaint is not handled."
    )


class AdvertisingSpec(Spec):
    """How advertising and need create awareness and consideration."""

    cost_per_exposure: Annotated[Positive, Unit("money")] = Field(
        0.085,
        description=(
            "Cost of one advertising exposure to one person (money). The acquisition unit "
            "costs (this, levers.promotion_offer, levers.sales_visit) are calibrated together "
            "so that acquiring a customer costs about 5 times retaining one and pays back in "
            "about a year (FACTS F2), measured incrementally against a hold-out run."
        ),
    )
    p_aware_per_exposure: Probability = Field(
        0.02, description="Chance one exposure makes an unaware person aware of the firm."
    )
    p_consider_per_exposure: Probability = Field(
        0.01, description="Chance one exposure makes a person consider buying now (ads are weak)."
    )
    saturation_exposures_per_year: Annotated[Positive, Unit("per year")] = Field(
        300.0,
        description=(
            "Exposures per person per year at which advertising wears out: x bought act as "
            "s(1 - exp(-x/s)) (concave response, Simon & Arndt 1980, J. Advertising Research "
            "20(4); Blattberg & Deighton 1996)."
        ),
    )
    awareness_half_life_weeks: Annotated[NonNegative, Unit("weeks")] = Field(
        26.0,
        description=(
            "Half-life of a person's awareness of a firm they neither buy from nor left: the "
            "awareness stock that advertising builds decays (Nerlove & Arrow 1962 goodwill; "
            "forgetting as in Dodson & Muller 1978; half-life as in Broadbent's adstock). "
            "Academic estimates of an ad's carry-over are 7-12 weeks; knowing a firm lasts "
            "longer, so half a year. 0: never forgotten (no decay)."
        ),
    )


class ExperienceSpec(Spec):
    """Scale economies: the experience curve of each firm's unit cost of goods."""

    learning_rate: Annotated[float, Unit("per doubling")] = Field(
        0.9,
        gt=0.0,
        le=1.0,
        description=(
            "Unit cost of goods multiplies by this with each doubling of the firm's "
            "cumulative volume (experience curve, Henderson 1968; Lieberman 1984; Dutton & "
            "Thomas 1984 find 0.7-0.9 in most of 108 studies): 0.9, the modest end; 1 turns "
            "scale economies off."
        ),
    )
    prior_years: Annotated[Positive, Unit("years")] = Field(
        5.0,
        description=(
            "A firm's experience at the start, in years of its expected starting volume "
            "(at least one average customer-year per year); its unit cost is the "
            "scenario's there. 5: firms older than their customers' mean tenure (2 years)."
        ),
    )


class LeverCosts(Spec):
    """Unit costs and effects of each marketing lever (money per unit)."""

    promotion_offer: Annotated[Positive, Unit("money")] = Field(
        9.4,
        description=(
            "Cost of one new-customer promotion offer (mailing plus discount); calibrated "
            "with the other acquisition unit costs (advertising.cost_per_exposure)."
        ),
    )
    promotion_response: Probability = Field(
        0.1, description="Chance a promotion offer makes its receiver consider buying now."
    )
    promotion_utility: Annotated[NonNegative, Unit("utility")] = Field(
        1.5, description="Utility bonus of a promotion offer for the offering firm."
    )
    sales_visit: Annotated[Positive, Unit("money")] = Field(
        122.0,
        description=(
            "Cost of one personal sales visit (the most expensive contact, F6); calibrated "
            "with the other acquisition unit costs (advertising.cost_per_exposure)."
        ),
    )
    sales_visit_utility: Annotated[NonNegative, Unit("utility")] = Field(
        2.5, description="Utility bonus of a sales visit for the visiting firm."
    )
    care_contact: Annotated[Positive, Unit("money")] = Field(
        15.0, description="Cost of one care contact with a customer."
    )
    care_boost: Probability = Field(
        0.08, description="Share of the gap to full satisfaction a helpful care contact closes."
    )
    care_min_interval_weeks: Annotated[NonNegative, Unit("weeks")] = Field(
        6.0, description="Contacts closer together than this annoy instead of help (spam)."
    )
    spam_penalty: NonNegative = Field(0.03, description="Satisfaction lost to a pushy contact.")
    loyalty_member_per_year: Annotated[Positive, Unit("money per year")] = Field(
        40.0, description="Yearly cost of one loyalty-program member (rewards and running)."
    )
    member_frequency_multiplier: Annotated[Positive, Unit("relative")] = Field(
        1.15,
        description=(
            "Causal effect of membership on purchase frequency. Small: correcting for "
            "self-selection, Leenheer et al. (2007, IJRM 24(1)) find the effect seven times "
            "smaller than the naive member/non-member gap; Autobarn's observed 3x (F6) over "
            "seven on a log scale is about 1.15."
        ),
    )
    member_basket_multiplier: Annotated[Positive, Unit("relative")] = Field(
        1.1,
        description=(
            "Causal effect of membership on spend per purchase (Autobarn's observed 2x over "
            "seven on a log scale, after Leenheer et al. 2007; Liu 2007, J. Marketing 71(4): "
            "only light and moderate buyers change)."
        ),
    )
    member_switching_cost: Annotated[NonNegative, Unit("utility")] = Field(
        0.2, description="Extra switching cost (utility) of a loyalty-program member (points)."
    )
    enrol_log_odds: Annotated[float, Unit("log-odds")] = Field(
        -4.0,
        description=(
            "Log-odds that an average customer (mean purchase rate and spend, satisfaction "
            "0.7) accepts the membership offer in one step; members select themselves."
        ),
    )
    enrol_rate_weight: NonNegative = Field(
        1.2,
        description=(
            "Log-odds of accepting per unit of log(purchase rate / mean): heavy buyers join "
            "first, as they earn most rewards (Liu 2007; Leenheer et al. 2007). Calibrated "
            "so members buy about 3x as often as non-members (F6, Autobarn)."
        ),
    )
    enrol_spend_weight: NonNegative = Field(
        1.2,
        description=(
            "Log-odds of accepting per unit of log(mean spend per purchase / mean); "
            "calibrated so members spend about 2x per purchase (F6, Autobarn)."
        ),
    )
    enrol_satisfaction_weight: NonNegative = Field(
        8.0, description="Log-odds of accepting per unit of satisfaction above 0.7."
    )
    care_saturation_per_year: Annotated[Positive, Unit("per year")] = Field(
        4.0,
        description=(
            "Care contacts per customer per year at which their effect saturates: of x "
            "contacts per customer-year a share s(1 - exp(-x/s))/x lands (Blattberg & "
            "Deighton 1996: an exponential, saturating response to spend per customer)."
        ),
    )
    promotion_saturation_per_year: Annotated[Positive, Unit("per year")] = Field(
        3.0,
        description=(
            "Promotion offers per prospect per year at which the response saturates "
            "(same saturating form: repeated offers to the same market wear out)."
        ),
    )
    sales_visit_saturation_per_year: Annotated[Positive, Unit("per year")] = Field(
        1.0,
        description="Sales visits per aware prospect per year at which their effect saturates.",
    )
    complaint_saturation_per_year: Annotated[Positive, Unit("per year")] = Field(
        1.0,
        description=(
            "Complaints handled per customer per year at which handling quality saturates "
            "(stretched handling resolves a smaller share)."
        ),
    )
    complaint_handling: Annotated[Positive, Unit("money")] = Field(
        60.0, description="Cost of handling one complaint."
    )
    service_per_customer_year: Annotated[Positive, Unit("money per year")] = Field(
        40.0, description="Service spend per customer per year that closes 63% of the service gap."
    )
    service_max_gain: Probability = Field(
        0.3, description="Most the service-level lever can raise service quality."
    )
    upgrade_contact: Annotated[Positive, Unit("money")] = Field(
        25.0,
        description=(
            "Cost of one cross-/up-selling contact: a personal call or mailing with an offer "
            "picked for the customer from the database. An assumption placed between a care "
            "contact (15) and a field sales visit (122), the most expensive contact (F6)."
        ),
    )
    upgrade_success: Probability = Field(
        0.1,
        description=(
            "Chance an upgrade offer to a customer just below the next tier succeeds at low "
            "intensity: targeted offers to existing customers draw about 10% (F6: Autobarn's "
            "member-only promotions >10%; next-product-to-buy targeting, Knott, Hayes & "
            "Neslin 2002, J. Interactive Marketing 16(3); Kamakura et al. 2003, IJRM 20(1))."
        ),
    )
    upgrade_spend_gain: Annotated[NonNegative, Unit("relative")] = Field(
        0.5,
        description=(
            "Durable rise of an upgraded customer's spend per purchase with the firm (share "
            "of wallet: one more product line; Kumar, George & Pancras 2008, J. Retailing "
            "84(1): cross-buying raises revenue). +50% lifts a customer in the upper third of "
            "a tier into the next (tier entry revenues are 2-3 times apart)."
        ),
    )
    upgrade_saturation_per_year: Annotated[Positive, Unit("per year")] = Field(
        0.5,
        description=(
            "Upgrade offers per customer per year at which their success saturates: of x "
            "offers per customer-year a share s(1 - exp(-x/s))/x lands (the exponential "
            "response of Blattberg & Deighton 1996, as for the other levers). 0.5 is an "
            "assumption: about one customer in two is a cross-selling prospect in a year."
        ),
    )
    upgrade_interval_weeks: Annotated[NonNegative, Unit("weeks")] = Field(
        26.0,
        description=(
            "Weeks before a customer who declined an upgrade offer is offered again: at most "
            "twice a year, an assumption that keeps offers from turning into spam (F1)."
        ),
    )


class HeterogeneitySpec(Spec):
    """Latent traits every person carries, drawn once (customers who differ).

    Parameterised exactly as the customer-base models a firm fits to its transaction data,
    so fitted values drop straight in: purchase rate lambda ~ Gamma(r, alpha) across people
    (NBD, BG/NBD), dropout propensity p ~ Beta(a, b) (BG/NBD; Fader, Hardie & Lee 2005,
    Marketing Science 24(2)) and spend per purchase ~ Gamma(p, nu) with nu ~ Gamma(q, gamma)
    across people (Gamma-Gamma; Fader, Hardie & Lee 2005, JMR 42(4); Colombo & Jiang 1999).
    Time is in years and spend in units at the list price (a Gamma-Gamma fitted in money
    at price P has the same p and q, and gamma / P here). Heavy buyers, low-dropout and
    high-spend people stay longer, so the loyal/casual spend gap and the 80/20 revenue share
    emerge from who survives rather than from multipliers.
    """

    enabled: bool = Field(
        True,
        description=(
            "Draw the traits; if false everyone has the mean purchase rate, the mean spend "
            "per purchase and the same churn proneness (closed-form dockings)."
        ),
    )
    r: Positive = Field(
        0.48,
        description=(
            "Gamma shape of the purchase rate across people (BG/NBD r; smaller = more "
            "heterogeneous: the coefficient of variation is 1/sqrt(r)). Fitted r is mostly "
            "below 1 (0.24 on CDNOW, Fader, Hardie & Lee 2005); 0.48 puts the top 20% of "
            "customers' revenue share near F3's 80% (about 0.77) by who buys, not by a "
            "multiplier."
        ),
    )
    alpha: Annotated[Positive, Unit("years")] = Field(
        0.04,
        description=(
            "Gamma rate (scale of time) of the purchase rate across people (BG/NBD alpha): "
            "the mean purchase rate is r / alpha per year (0.48 / 0.04 = 12)."
        ),
    )
    a: Positive = Field(
        2.0,
        description=(
            "Beta a of the dropout propensity p across people (BG/NBD a); E[p] = a / (a + b). "
            "How p acts: see dropout."
        ),
    )
    b: Positive = Field(
        6.0, description="Beta b of the dropout propensity across people (BG/NBD b)."
    )
    dropout: Literal["hazard", "after_purchase"] = Field(
        "hazard",
        description=(
            "How the dropout propensity p acts. 'hazard': p scales each person's churn "
            "hazards (p / E[p]). 'after_purchase': as BG/NBD (Fader, Hardie & Lee 2005), "
            "each step with a repeat purchase is followed by the customer lapsing (leaving "
            "for reason 'other') with probability p (never after the first purchase), and "
            "the churn hazards no longer scale with p; the mechanistic reasons (care, dissatisfaction, price, background) stay as "
            "hazards on top. Fitted markets (marketsim calibrate) use 'after_purchase'."
        ),
    )
    p: Positive = Field(
        6.25,
        description=(
            "Gamma-Gamma p: shape of one purchase's spend around the person's mean "
            "(Fader, Hardie & Lee 2005 fit 6.25 on CDNOW)."
        ),
    )
    q: Annotated[float, Unit("dimensionless")] = Field(
        2.3,
        gt=1.0,
        description=(
            "Gamma-Gamma q: shape of the spend rate nu across people (must exceed 1; smaller "
            "= more spread in people's mean spend, CV 1/sqrt(q - 2) above 2)."
        ),
    )
    gamma: Annotated[Positive, Unit("units")] = Field(
        0.312,
        description=(
            "Gamma-Gamma gamma: scale of nu across people; the mean spend per purchase is "
            "p * gamma / (q - 1) units (6.25 * 0.312 / 1.3 = 1.5 units)."
        ),
    )
    engagement_churn_elasticity: NonNegative = Field(
        1.0,
        description=(
            "Churn hazards scale with (a person's expected yearly spend / the market mean) "
            "to minus this power: customers who spend more in the category stay longer "
            "(Reinartz & Kumar 2003, J. Marketing 67(1); FACTS F5: the more a brand matters, "
            "the more a customer participates). 0 = no link."
        ),
    )

    @property
    def mean_rate(self) -> float:
        """Mean purchases per year across people, r / alpha."""
        return self.r / self.alpha

    @property
    def mean_spend(self) -> float:
        """Mean units per purchase across people, p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1.0)

    @property
    def mean_dropout(self) -> float:
        """Mean dropout propensity, a / (a + b)."""
        return self.a / (self.a + self.b)


class MarketSpec(Spec):
    """The customer population and its demand."""

    n_customers: int = Field(
        10_000,
        ge=1,
        le=MAX_PEOPLE,
        description="People in the market (customers or not; at most 2**31 - 1, int32 indices).",
    )
    initial_penetration: Probability = Field(
        0.5, description="Share of the market buying from some firm at the start."
    )
    initial_awareness: Probability = Field(
        0.3, description="Chance a person is aware of a given firm at the start."
    )
    initial_tenure_years: Annotated[NonNegative, Unit("years")] = Field(
        2.0, description="Mean tenure of the customers firms have at the start (years)."
    )
    reference_price: Annotated[Positive, Unit("money")] = Field(
        50.0, description="Price that costs one unit of value to a fully price-weighted customer."
    )
    value_sensitivity: Positive = Field(
        5.0, description="Logit scale of delivered value in choices (multinomial logit)."
    )
    outside_option_utility: Annotated[float, Unit("utility")] = Field(
        2.5, description="Utility of buying from no firm (a very low value forces a purchase)."
    )
    need_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.03, description="How often an aware non-customer considers buying on their own."
    )
    tenure_spend_gain: Annotated[NonNegative, Unit("relative")] = Field(
        0.2,
        description=(
            "Causal rise of spend per purchase with tenure (share of wallet), reached after "
            "spend_ramp_years: 0.2 = +20%. Modest on purpose: long-life customers do not "
            "necessarily spend more (Reinartz & Kumar 2000, J. Marketing 64(4)); most of the "
            "loyal/casual gap is who survives (heterogeneity)."
        ),
    )
    spend_ramp_years: Annotated[Positive, Unit("years")] = Field(
        3.0, description="Years over which spend per purchase rises by tenure_spend_gain."
    )
    cost_weight: NonNegative = Field(
        1.0, description="Weight of total cost (price, time, effort, psychic) against total value."
    )
    weight_concentration: Positive = Field(
        8.0, description="Dirichlet concentration of value weights (higher = more alike)."
    )
    switching_cost_mean: Annotated[NonNegative, Unit("utility")] = Field(
        2.0, description="Mean switching cost (utility units) a rival's offer must beat."
    )
    poaching_offers_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.2, description="Rival offers an average customer receives per year."
    )
    poaching_reference_spend_per_person: Annotated[Positive, Unit("money per year")] = Field(
        10.0,
        description=(
            "Yearly acquisition spend per person in the market at which a rival makes the "
            "average number of poaching offers; offers scale with each firm's acquisition "
            "spend per person, so a market and its budgets can be scaled together."
        ),
    )
    satisfaction_stickiness: Annotated[NonNegative, Unit("utility")] = Field(
        8.0, description="Utility of staying per unit of satisfaction above 0.7 when a rival calls."
    )
    discount_rate_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.10, description="Discount rate for discounted profit and customer lifetime value."
    )
    scale_with_size: bool = Field(
        True,
        description=(
            "When an override changes n_customers (--set, a sweep, a sampled market), scale "
            "every firm's and policy's budget and fixed cost and employees.per_firm by the "
            "new size over this file's, so a bigger market is the same market, bigger; keys "
            "set explicitly keep their value. false keeps the absolute amounts "
            "(sim.config.scaling)."
        ),
    )
    heterogeneity: HeterogeneitySpec = Field(default_factory=HeterogeneitySpec)
    satisfaction: SatisfactionSpec = Field(default_factory=SatisfactionSpec)
    word_of_mouth: WordOfMouthSpec = Field(default_factory=WordOfMouthSpec)
    churn: ChurnSpec = Field(default_factory=ChurnSpec)
    complaints: ComplaintSpec = Field(default_factory=ComplaintSpec)
    advertising: AdvertisingSpec = Field(default_factory=AdvertisingSpec)
    experience: ExperienceSpec = Field(default_factory=ExperienceSpec)
    levers: LeverCosts = Field(default_factory=LeverCosts)


class AcquisitionMix(Spec):
    """How the acquisition budget is split (shares sum to 1)."""

    advertising: Probability = Field(0.5, description="Share for mass advertising.")
    promotions: Probability = Field(0.3, description="Share for new-customer promotions.")
    sales_visits: Probability = Field(0.2, description="Share for personal sales visits.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> Self:
        _check_mix(self.model_dump(), "acquisition_mix")
        return self


class RetentionMix(Spec):
    """How the retention budget is split (shares sum to 1)."""

    care_contacts: Probability = Field(0.4, description="Share for care contacts.")
    loyalty_program: Probability = Field(0.2, description="Share for the loyalty program.")
    complaint_handling: Probability = Field(0.2, description="Share for complaint handling.")
    service_level: Probability = Field(0.2, description="Share for raising service quality.")
    upgrades: Probability = Field(
        0.0,
        description=(
            "Share for cross-/up-selling contacts that move customers up the customer "
            "pyramid (Curry, F3); 0 by default so the presets' verdicts keep their meaning."
        ),
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> Self:
        _check_mix(self.model_dump(), "retention_mix")
        return self


class Policy(Spec):
    """A named set of lever values for one firm (EMA Workbench: the levers L)."""

    name: str = Field("balanced", min_length=1, description="Name shown in results.")
    budget_per_year: Annotated[NonNegative, Unit("money per year")] | None = Field(
        None, description="Marketing budget per year; empty means the firm's own budget."
    )
    acquisition_share: Probability = Field(
        0.5, description="Share of the budget for acquisition; the rest goes to retention."
    )
    acquisition_mix: AcquisitionMix = Field(default_factory=AcquisitionMix)
    retention_mix: RetentionMix = Field(default_factory=RetentionMix)
    price_change: Annotated[float, Unit("relative")] = Field(
        0.0, ge=-0.9, le=5.0, description="Relative price move (-0.1 = a 10% cut)."
    )
    key_account_share: Probability = Field(
        0.0,
        description=(
            "Share of care contacts reserved for the top and big tiers of the customer pyramid "
            "(special service for the customers who bring most revenue, 80/20)."
        ),
    )
    training_per_employee_year: Annotated[NonNegative, Unit("money per year")] = Field(
        1000.0, description="Training spend per employee per year (money)."
    )
    pay_level: Annotated[float, Unit("relative")] = Field(
        1.0,
        ge=0.5,
        le=2.0,
        description="Pay and working conditions relative to the market (1 = par).",
    )
    promotion_opportunity: Probability = Field(
        0.3, description="Share of staff who see a path to promotion (0-1)."
    )
    supplier_investment_per_year: Annotated[NonNegative, Unit("money per year")] = Field(
        0.0, description="Yearly investment in supplier partnerships, split over the suppliers."
    )
    supplier_price_pressure: Annotated[float, Unit("share")] = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Share squeezed off suppliers' prices (lowers cost, erodes trust).",
    )


class EmployeeSpec(Spec):
    """Staff of every firm: how skill and morale form and what they cost (F7)."""

    enabled: bool = Field(
        True, description="Model staff; if false, service and personnel quality are plain inputs."
    )
    per_firm: int = Field(12, ge=0, description="Employees per firm.")
    customers_per_employee: Annotated[Positive, Unit("customers")] = Field(
        200.0, description="Customers one employee serves without overload."
    )
    fixed_payroll_share: Probability = Field(
        0.45,
        description=(
            "Share of the staff's payroll that is fixed (the core team); the rest follows the "
            "customers served (hours, part-time and seasonal staff), so payroll is "
            "wage x (share x per_firm + (1 - share) x customers / customers_per_employee). "
            "0.45: selling, general and administrative costs rise 0.55% per 1% of activity "
            "(Anderson, Banker & Janakiraman 2003, J. Accounting Research 41(1))."
        ),
    )
    promotion_raise: Annotated[float, Unit("relative")] = Field(
        0.10,
        ge=0.0,
        le=1.0,
        description=(
            "Pay rise of a promoted employee (0.10 = +10%); staff on a promotion path "
            "(promotion_opportunity) earn it, so payroll is (1 + raise x opportunity) / "
            "(1 + raise x 0.3) of the market's, 0.3 being par. About 10%: average promotional "
            "increases in pay surveys (WorldatWork 2016, Promotional Guidelines) and Baker, "
            "Gibbs & Holmstrom (1994, QJE 109(4)): promotions bring raises above ordinary ones."
        ),
    )
    wage_per_year: Annotated[NonNegative, Unit("money per year")] = Field(
        30_000.0, description="Market wage per employee per year."
    )
    recruiting_cost: Annotated[NonNegative, Unit("money")] = Field(
        5_000.0, description="Cost of hiring a replacement."
    )
    hire_skill: Probability = Field(0.3, description="Skill of a new hire (0-1).")
    initial_skill_max: Probability = Field(
        0.8, description="Highest skill among the initial staff."
    )
    on_the_job_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.2, description="Share of the skill gap closed per year by experience alone."
    )
    training_gain_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.8, description="Most of the skill gap training can close per year."
    )
    training_reference_per_year: Annotated[Positive, Unit("money per year")] = Field(
        2_000.0, description="Training spend per employee-year that reaches 63% of that gain."
    )
    morale_baseline: Annotated[float, Unit("log-odds")] = Field(
        0.4, description="Log-odds of morale at par conditions."
    )
    morale_pay_weight: Annotated[NonNegative, Unit("log-odds")] = Field(
        4.0, description="Morale log-odds per 100% pay above par."
    )
    morale_promotion_weight: Annotated[NonNegative, Unit("log-odds")] = Field(
        2.0, description="Morale log-odds per unit of promotion opportunity above 0.3."
    )
    morale_overload_weight: Annotated[NonNegative, Unit("log-odds")] = Field(
        2.0, description="Morale log-odds lost per 100% workload above capacity."
    )
    morale_adjustment_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        4.0, description="How fast morale moves to its level under current conditions (per year)."
    )
    quit_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.15, description="Yearly quit hazard of an employee with morale 0.5."
    )
    quit_morale_sensitivity: NonNegative = Field(
        4.0, description="How steeply quitting rises as morale falls (log-hazard per unit)."
    )
    skill_weight: Probability = Field(
        0.6, description="Weight of skill (vs. morale) in the service staff give."
    )
    quality_effect: NonNegative = Field(
        0.8, description="Change of service quality per unit of staff quality above the reference."
    )
    reference_quality: Probability = Field(
        0.6, description="Staff quality at which the firm's service quality equals its input."
    )
    failure_effect: Annotated[NonNegative, Unit("relative")] = Field(
        2.0,
        description=(
            "Relative change of the service-failure chance per unit of staff quality below "
            "the reference (skilled, motivated staff make fewer mistakes)."
        ),
    )


class SupplierSpec(Spec):
    """Suppliers of every firm and their relationship ladder (F8)."""

    enabled: bool = Field(
        True, description="Model suppliers; if false, product quality is an input."
    )
    per_firm: int = Field(3, ge=0, description="Suppliers per firm.")
    initial_trust: Probability = Field(0.3, description="Trust at the start (0-1; 0.2 per rung).")
    base_quality: Probability = Field(0.55, description="Input quality at the first rung.")
    quality_per_level: NonNegative = Field(0.05, description="Input quality gained per rung.")
    base_reliability: Probability = Field(
        0.96, description="Chance a supplier delivers in a step at the first rung."
    )
    reliability_per_level: NonNegative = Field(0.008, description="Reliability gained per rung.")
    cost_saving_per_level: Probability = Field(
        0.01, description="Share of unit cost saved per rung through joint improvement."
    )
    fair_dealing_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.05, description="Trust gap closed per year by paying fairly and on time."
    )
    investment_gain_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        1.5, description="Most trust gap per year that partnership investment can close."
    )
    investment_reference_per_year: Annotated[Positive, Unit("money per year")] = Field(
        10_000.0, description="Investment per supplier-year that reaches 63% of that gain."
    )
    trust_decay_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        0.1, description="Share of trust lost per year when the relationship is not tended."
    )
    squeeze_loss_per_year: Annotated[NonNegative, Unit("per year")] = Field(
        1.0, description="Share of trust lost per year per 10% of price squeezed off."
    )
    failure_penalty: Annotated[NonNegative, Unit("value units")] = Field(
        0.4, description="Drop of perceived performance when a purchase meets a supply failure."
    )
    quality_effect: NonNegative = Field(
        1.0, description="Change of product quality per unit of input quality above the reference."
    )
    reference_quality: Probability = Field(
        0.6, description="Input quality at which the firm's product quality equals its input."
    )


class FirmSpec(Spec):
    """A firm's offer and economics. Quality inputs become agent outputs in a later layer."""

    name: str = Field("focal", min_length=1, description="Firm name shown in results.")
    price: Annotated[Positive, Unit("money")] = Field(50.0, description="Price per unit (money).")
    unit_cost: Annotated[NonNegative, Unit("money")] = Field(
        32.0, description="Cost of goods per unit sold (money)."
    )
    product_quality: Probability = Field(0.7, description="Product value (quality, features).")
    service_quality: Probability = Field(0.6, description="Service value before service spend.")
    personnel_quality: Probability = Field(0.6, description="Personnel value of its staff.")
    image: Probability = Field(0.6, description="Brand and corporate image value.")
    time_cost: Probability = Field(0.3, description="Time a purchase costs the customer (0-1).")
    effort_cost: Probability = Field(0.3, description="Effort a purchase costs the customer (0-1).")
    psychic_cost: Probability = Field(0.2, description="Stress a purchase costs (0-1).")
    p_service_failure: Probability = Field(
        0.05, description="Chance a purchase meets a service failure before service spend."
    )
    initial_share: Probability = Field(
        0.25, description="Share of the initial customers who buy from this firm."
    )
    budget_per_year: Annotated[NonNegative, Unit("money per year")] = Field(
        200_000.0, description="Marketing budget per year."
    )
    fixed_cost_per_year: Annotated[NonNegative, Unit("money per year")] = Field(
        0.0, description="Fixed costs booked every step."
    )
    cost_per_customer_year: Annotated[NonNegative, Unit("money per year")] = Field(
        0.0,
        description=(
            "Other costs per customer served per year (accounts, billing, systems), booked "
            "each step on the customers at its start: the part of overheads that follows the "
            "firm's size (staff have their own, employees.fixed_payroll_share)."
        ),
    )


class ReactionSpec(Spec):
    """A competitor's reaction rule."""

    match_price_cuts: bool = Field(True, description="Follow a rival's price cut down to it.")
    price_tolerance: Probability = Field(
        0.05, description="Relative price gap to a cheaper rival tolerated before matching."
    )
    min_margin: NonNegative = Field(
        0.05, description="Never price below unit cost times (1 + this)."
    )
    share_loss_trigger: Probability = Field(
        0.05,
        description="Relative customer loss over the look-back that triggers more advertising.",
    )
    lookback_weeks: Annotated[Positive, Unit("weeks")] = Field(
        8.0, description="Look-back for the share-loss trigger."
    )
    advertising_step_up: Annotated[NonNegative, Unit("relative")] = Field(
        0.2, description="Relative advertising increase each time the trigger fires."
    )
    max_advertising_multiplier: Annotated[float, Unit("times")] = Field(
        2.0, ge=1.0, description="Cap on the advertising multiplier."
    )


class CompetitorSpec(FirmSpec):
    """A rival firm: its offer, its own policy and how it reacts."""

    name: str = Field("competitor", min_length=1, description="Firm name shown in results.")
    policy: Policy = Field(default_factory=Policy, description="The competitor's own levers.")
    reaction: ReactionSpec = Field(default_factory=ReactionSpec)


def _default_competitors() -> tuple[CompetitorSpec, ...]:
    return tuple(CompetitorSpec(name=f"rival_{k}") for k in (1, 2, 3))


class ScenarioSections(Spec):
    """The sections of a market: what a Scenario and a scenario file both hold."""

    name: str = Field("default", min_length=1, description="Scenario name shown in results.")
    simulation: SimulationSpec = Field(default_factory=SimulationSpec)
    market: MarketSpec = Field(default_factory=MarketSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    firm: FirmSpec = Field(default_factory=FirmSpec)
    competitors: tuple[CompetitorSpec, ...] = Field(default_factory=_default_competitors)
    employees: EmployeeSpec = Field(default_factory=EmployeeSpec)
    suppliers: SupplierSpec = Field(default_factory=SupplierSpec)


class Scenario(ScenarioSections):
    """Everything one model run needs, validated and immutable."""

    @classmethod
    def default(cls) -> Scenario:
        """The documented default market: a focal firm and three rivals, 10,000 people."""
        return cls()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [self.firm.name, *(c.name for c in self.competitors)]
        if len(set(names)) != len(names):
            raise ValueError(f"firm names must be unique, got {names}")
        total_share = self.firm.initial_share + sum(c.initial_share for c in self.competitors)
        if total_share > 1.0 + 1e-9:
            raise ValueError(
                f"initial_share of all firms sums to {total_share:g}; it must be at most 1"
            )
        if len(names) > MAX_FIRMS:
            raise ValueError(f"at most {MAX_FIRMS} firms are supported, got {len(names)}")
        net = self.network
        problem = degree_problem(net.kind, net.mean_degree, self.market.n_customers)
        if problem:
            raise ValueError(f"network.mean_degree: {problem}")
        return self

    @property
    def firm_names(self) -> tuple[str, ...]:
        """The focal firm first, then its competitors."""
        return (self.firm.name, *(c.name for c in self.competitors))

    def with_updates(self, updates: dict[str, object]) -> Scenario:
        """A copy with dotted-path values replaced, re-validated.

        >>> Scenario.default().with_updates({"market.n_customers": 500}).market.n_customers
        500

        List items are addressed by index: ``"competitors.0.price"``.
        """
        data = self.model_dump(mode="json")
        for path, value in updates.items():
            try:
                set_path(data, split_path(path), value, Scenario)
            except UnknownKeyError as exc:
                raise KeyError(
                    f"unknown scenario key '{path}': {exc.where} has no '{exc.key}'"
                ) from None
            except KeyPathError as exc:
                raise KeyError(f"'{path}': {exc}") from None
        return Scenario.model_validate(data)
