"""What acquisition buys that retention cannot: scale economies and an awareness stock.

Two rules of issue 10's trade-off, each a pure function with its source:

- **Experience curve** (Henderson 1968, the Boston Consulting Group's "Perspectives on
  experience"; Lieberman 1984, Rand J. Economics 15(2); Dutton & Thomas 1984, Academy of
  Management Review 9(2), whose survey of 108 firm-level studies finds progress ratios
  mostly between 0.7 and 0.9): each doubling of a firm's cumulative volume multiplies its
  unit cost of goods by the learning rate, cost ∝ Q^(-b) with b = -log2(learning rate). A
  firm that grows its base sells more and so learns faster; keeping the same customers
  does not double anyone's volume.
- **Awareness stock** (Nerlove & Arrow 1962, Economica 29(114): advertising builds a
  goodwill stock that depreciates; Dodson & Muller 1978, Management Science 24(15): in
  an agent's terms, people learn of a firm from advertising and word of mouth and forget
  it; Broadbent 1979, J. Advertising Research 19(2): the carry-over is stated as a
  half-life). A person who does not buy from a firm, and never left it, forgets it with
  the probability of one step of that half-life; the firm's share of the market aware of
  it is the stock, and only a person aware of a firm can choose it.
"""

from __future__ import annotations

import math

import numpy as np

from sim.model.behaviour.levers import bernoulli_positions
from sim.model.behaviour.word_of_mouth import decay_per_step

__all__ = [
    "experience_cost_factor",
    "forget",
    "forgetting_probability",
    "learning_exponent",
    "prior_experience_units",
]


def learning_exponent(learning_rate: float) -> float:
    """The experience curve's exponent b of cost ∝ Q^(-b): b = -log2(learning rate).

    A learning rate of 0.8 (cost falls 20% per doubling) gives b = 0.32; 1 gives 0.

    >>> round(learning_exponent(0.8), 4), learning_exponent(1.0)
    (0.3219, 0.0)
    """
    if not 0.0 < learning_rate <= 1.0:
        raise ValueError(f"learning_rate must be in (0, 1], got {learning_rate}")
    return 0.0 if learning_rate == 1.0 else -math.log2(learning_rate)


def experience_cost_factor(
    cumulative_units: float, prior_units: float, learning_rate: float
) -> float:
    """Unit cost relative to the start after selling `cumulative_units` since the start.

    The firm came to the start with `prior_units` of experience (cumulative volume), at
    which its cost is the scenario's unit cost; cost ∝ (prior + cumulative)^(-b).
    Normalising to the start keeps the scenario's unit cost meaningful in every market:
    only growth relative to the firm's own past lowers it.

    >>> experience_cost_factor(100.0, 100.0, 0.9)  # one doubling
    0.9
    >>> round(experience_cost_factor(300.0, 100.0, 0.9), 4)  # two doublings
    0.81
    >>> experience_cost_factor(0.0, 100.0, 0.8)
    1.0
    """
    if prior_units <= 0.0:
        raise ValueError(f"prior_units must be positive, got {prior_units}")
    b = learning_exponent(learning_rate)
    return float(((prior_units + max(cumulative_units, 0.0)) / prior_units) ** -b)


def prior_experience_units(yearly_units: float, prior_years: float, floor_units: float) -> float:
    """A firm's cumulative volume before the start: `prior_years` at its starting volume.

    At least `floor_units` (a new entrant has some experience: the model uses one average
    customer-year per prior year), so the curve starts finite.

    >>> prior_experience_units(22_500.0, 2.0, 36.0)
    45000.0
    >>> prior_experience_units(0.0, 2.0, 36.0)
    36.0
    """
    return float(max(yearly_units * prior_years, floor_units))


def forgetting_probability(half_life_weeks: float, steps_per_year: int) -> float:
    """Chance per step that a person forgets a firm they do not buy from (0 weeks: never).

    >>> forgetting_probability(1.0, 52)
    0.5
    >>> forgetting_probability(0.0, 52)
    0.0
    """
    if half_life_weeks <= 0.0:
        return 0.0
    return 1.0 - decay_per_step(half_life_weeks, steps_per_year)


def forget(
    aware: np.ndarray,
    firm: np.ndarray,
    former_firm: np.ndarray,
    p_forget: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Clear awareness in place: each (person, firm) the person neither buys from nor left
    forgets with `p_forget`. Returns how many people forgot each firm.

    Customers know their firm, and former customers remember the firm they left (the
    customer pyramid counts them as inactive, never as unaware).

    Why drawn over everybody: a forgetting chance is drawn for each person and firm
    (:func:`~sim.model.behaviour.levers.bernoulli_positions`: about n p geometric gaps,
    not n draws) and only acts on the people who can forget. Each of them forgets with
    `p_forget`, independently, as if drawn among them alone, but finding the few drawn
    does not take three passes over everybody per firm.

    >>> aware = np.ones((4, 2), dtype=bool)
    >>> forget(aware, np.array([0, -1, -1, 1]), np.array([-1, 1, -1, -1]), 1.0,
    ...        np.random.default_rng(0)).tolist()
    [3, 2]
    >>> aware.astype(int).tolist()
    [[1, 0], [0, 1], [0, 0], [0, 1]]
    """
    n, n_firms = aware.shape
    forgot = np.zeros(n_firms, dtype=np.int64)
    if p_forget <= 0.0:
        return forgot
    for f in range(n_firms):
        drawn = bernoulli_positions(n, p_forget, rng)
        knows = aware[:, f]  # a view: clearing it clears `aware`
        gone = drawn[knows[drawn] & (firm[drawn] != f) & (former_firm[drawn] != f)]
        knows[gone] = False
        forgot[f] = gone.size
    return forgot
