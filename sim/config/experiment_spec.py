"""The ``[uncertainties]`` and ``[experiment]`` sections of a scenario file (schema only).

In the XLRM vocabulary (Lempert et al. 2003) the policies are the levers a strategist
controls, the uncertainties are the market parameters nobody controls or knows well.
An ``[uncertainties]`` entry says how one market parameter varies across the sampled
markets; ``[experiment]`` says how many markets to sample, how, and on which outcome the
policies are judged. Whether a key path names a numeric parameter, and whether every
value it can take passes the parameter's own checks, is checked in
:mod:`sim.config.parameters`.

>>> UncertaintySpec.model_validate({"low": 0.08, "high": 0.2}).distribution
'uniform'
>>> UncertaintySpec.model_validate({"low": 1, "mode": 2, "high": 4}).distribution
'triangular'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from sim.common.outcomes import OUTCOME_NAMES
from sim.config.schema import MAX_REPLICATIONS, Spec
from sim.config.units import Unit

__all__ = [
    "DISTRIBUTIONS",
    "OUTCOMES",
    "SPEC_KEYS",
    "ExperimentSpec",
    "UncertaintySpec",
]

OUTCOMES = OUTCOME_NAMES
"""The headline outcomes of outcomes.csv (all better when higher)."""

Distribution = Literal["uniform", "triangular", "normal", "choices"]
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "triangular", "normal", "choices")

_NEEDS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "choices": ("choices",),
}
_EXAMPLE: dict[str, str] = {
    "uniform": "{ low = 0.3, high = 0.6 }",
    "triangular": "{ low = 0.3, mode = 0.45, high = 0.6 }",
    "normal": "{ mean = 0.45, sd = 0.05, low = 0.3, high = 0.6 }",
    "choices": "{ choices = [6, 10, 14] }",
}
SPEC_KEYS = frozenset({"distribution", "low", "high", "mode", "mean", "sd", "choices"})
"""The keys of one uncertainty's table (a table with none of them is a nested key path)."""


def _infer_distribution(data: Mapping[str, Any]) -> str:
    if "choices" in data:
        return "choices"
    if "mode" in data:
        return "triangular"
    if "mean" in data or "sd" in data:
        return "normal"
    return "uniform"


class UncertaintySpec(Spec):
    """How one uncertain market parameter varies across the sampled markets.

    ``{ low, high }`` is uniform; a ``mode`` makes it triangular, a ``mean`` and ``sd`` a
    normal cut to ``low..high``, ``choices`` a list of values drawn with equal chance.
    """

    distribution: Distribution = Field(
        "uniform",
        description=(
            "'uniform' (low to high), 'triangular' (low, mode, high), 'normal' (mean and sd, "
            "cut to low..high) or 'choices'; when left out it follows from the keys given."
        ),
    )
    low: float | None = Field(None, description="Smallest value (every distribution but choices).")
    high: float | None = Field(None, description="Largest value (every distribution but choices).")
    mode: float | None = Field(None, description="Most likely value (triangular).")
    mean: float | None = Field(
        None, description="Centre of the normal distribution before it is cut to low..high."
    )
    sd: float | None = Field(
        None, gt=0.0, description="Standard deviation of the normal before the cut (> 0)."
    )
    choices: tuple[float, ...] | None = Field(
        None,
        min_length=1,
        description="Values drawn with equal chance, e.g. [6, 10, 14] (choices).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_distribution(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "distribution" not in data:
            return {"distribution": _infer_distribution(data), **data}
        return data

    @model_validator(mode="after")
    def _shape(self) -> Self:
        needs = _NEEDS[self.distribution]
        example = _EXAMPLE[self.distribution]
        given = [
            k
            for k in ("low", "high", "mode", "mean", "sd", "choices")
            if getattr(self, k) is not None
        ]
        missing = [k for k in needs if k not in given]
        if missing:
            raise ValueError(
                f"a {self.distribution} uncertainty needs {_and(needs)}; "
                f"{_and(missing)} {'is' if len(missing) == 1 else 'are'} missing "
                f"(e.g. {example})"
            )
        extra = [k for k in given if k not in needs]
        if extra:
            raise ValueError(
                f"'{extra[0]}' is not used by a {self.distribution} uncertainty, which takes "
                f"{_and(needs)} (e.g. {example})"
            )
        if self.distribution == "choices":
            assert self.choices is not None
            if len(set(self.choices)) != len(self.choices):
                raise ValueError(f"'choices' lists a value twice: {list(self.choices)}")
            return self
        assert self.low is not None and self.high is not None
        if not self.low < self.high:
            raise ValueError(
                f"'low' ({self.low:g}) must be less than 'high' ({self.high:g}); for a fixed "
                "value set the parameter in its own section instead"
            )
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(
                f"'mode' ({self.mode:g}) must lie from low ({self.low:g}) to high ({self.high:g})"
            )
        if self.mean is not None and not self.low <= self.mean <= self.high:
            raise ValueError(
                f"'mean' ({self.mean:g}) must lie from low ({self.low:g}) to high ({self.high:g})"
            )
        return self

    def extremes(self) -> tuple[float, ...]:
        """The values a sample can take at its ends: low and high, or every choice."""
        if self.choices is not None:
            return tuple(self.choices)
        assert self.low is not None and self.high is not None
        return (self.low, self.high)


def _and(items: tuple[str, ...] | list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


class ExperimentSpec(Spec):
    """How many markets to sample from [uncertainties], how, and what to judge policies on."""

    scenarios: Annotated[int, Unit("markets")] = Field(
        20,
        ge=1,
        le=100_000,
        description=(
            "Markets (scenarios) sampled from [uncertainties]; every policy runs on each "
            "(ignored without [uncertainties])."
        ),
    )
    replications: Annotated[int, Unit("replications")] | None = Field(
        None,
        ge=1,
        le=MAX_REPLICATIONS,
        description="Replications per sampled market; empty means simulation.replications.",
    )
    seed: Annotated[int, Unit("")] | None = Field(
        None,
        ge=0,
        description="Seed of the sampling of markets; empty means simulation.seed.",
    )
    sampling: Literal["lhs", "random"] = Field(
        "lhs",
        description=(
            "'lhs' (Latin hypercube: every parameter's range evenly covered) or 'random' "
            "(independent draws)."
        ),
    )
    outcome: Literal[OUTCOMES] = Field(  # type: ignore[valid-type]
        "cumulative_profit",
        description=(
            "Outcome of the focal firm the policies are judged on (regret, wins, sweeps, "
            "sensitivity): a column of outcomes.csv."
        ),
    )
