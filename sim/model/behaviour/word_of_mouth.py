"""Word of mouth on the social graph: referrals, conversions and deterrence (F1)."""

from __future__ import annotations

import numpy as np

from sim.model.network import SocialGraph

__all__ = [
    "conversion_probability",
    "decay_per_step",
    "draw_tellings",
    "pick_contacts",
    "pick_contacts_with_ties",
    "referral_converts",
]


def draw_tellings(
    speakers: np.ndarray, mean_tellings: float, rng: np.random.Generator
) -> np.ndarray:
    """Each speaker repeated once per person they tell this step (Poisson count).

    Drawn as one Poisson total for all speakers, each telling given to a speaker drawn
    uniformly: independent Poisson(m) counts per speaker have that law (splitting a
    Poisson process), and it takes one draw per telling instead of one per speaker
    (issue 14).
    """
    speakers = np.asarray(speakers)
    if speakers.size == 0:
        return speakers[:0]
    total = int(rng.poisson(mean_tellings * speakers.size))
    # counted per speaker and repeated: the tellings in the speakers' order, so that the
    # contacts are looked up in the graph in index order (cache locality)
    counts = np.bincount(rng.integers(0, speakers.size, size=total), minlength=speakers.size)
    return np.repeat(speakers, counts)


def pick_contacts_with_ties(
    speakers: np.ndarray,
    graph: SocialGraph,
    weak_tie_share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Whom each telling reaches, and whether through a weak tie.

    A close contact (a graph neighbour, a strong tie), or with `weak_tie_share` a weak tie:
    an acquaintance outside one's group, drawn uniformly from the market (Goldenberg,
    Libai & Muller 2001); weak ties are what lets one unhappy customer reach 25. Speakers
    without neighbours always use weak ties.
    """
    speakers = np.asarray(speakers, dtype=np.int64)
    # whether each telling uses a weak tie is drawn first, so that neighbours are drawn
    # only for the strong ones (issue 14; the same law as drawing a neighbour for all)
    weak = rng.random(speakers.shape) < weak_tie_share
    contacts = np.full(speakers.shape, -1, dtype=np.int64)
    strong = ~weak
    contacts[strong] = graph.sample_neighbors(speakers[strong], rng)
    weak |= contacts < 0
    if graph.n > 1 and weak.any():
        others = rng.integers(0, graph.n - 1, size=int(weak.sum()))
        others += others >= speakers[weak]  # skip oneself
        contacts[weak] = others
    return contacts, weak


def pick_contacts(
    speakers: np.ndarray,
    graph: SocialGraph,
    weak_tie_share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Whom each telling reaches (see :func:`pick_contacts_with_ties`)."""
    return pick_contacts_with_ties(speakers, graph, weak_tie_share, rng)[0]


def conversion_probability(
    weak: np.ndarray | bool, p_conversion: float, weak_ratio: float
) -> np.ndarray:
    """A referral's conversion chance: a strong tie's, or a weak tie's lower one.

    >>> conversion_probability(np.array([False, True]), 0.6, 0.5).tolist()
    [0.6, 0.3]
    """
    return np.where(weak, p_conversion * weak_ratio, p_conversion)


def referral_converts(
    deterred: np.ndarray | float, p_conversion: np.ndarray | float, rng: np.random.Generator
) -> np.ndarray:
    """Whether each told non-customer becomes a customer; deterrence lowers intention."""
    d = np.asarray(deterred, dtype=float)
    return rng.random(d.shape) < p_conversion * (1.0 - d)


def decay_per_step(half_life_weeks: float, steps_per_year: int) -> float:
    """Per-step multiplier of a quantity with the given half-life in weeks.

    >>> round(decay_per_step(1.0, 52), 6)
    0.5
    """
    half_life_steps = half_life_weeks * steps_per_year / 52.0
    return float(0.5 ** (1.0 / half_life_steps))
