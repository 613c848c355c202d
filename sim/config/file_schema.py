"""What a scenario file may hold: the market's sections, ``[[policies]]``, ``[outputs]``,
``[uncertainties]`` and ``[experiment]``, with their types, defaults and ranges.

:class:`ScenarioFileSchema` declares the keys only; :class:`~sim.config.scenario_file.ScenarioFile`
adds the checks across sections. Messages and key-path lookups walk this declaration,
which sits below the checks that use them, so the config package has no import cycle.

>>> PolicyEntry.model_validate({"preset": "retention_heavy"}).acquisition_share
0.2
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.config.experiment_spec import ExperimentSpec, UncertaintySpec
from sim.config.presets import PRESETS
from sim.config.schema import Policy, ScenarioSections, Spec
from sim.config.units import Unit

__all__ = ["OutputsSpec", "PolicyEntry", "ScenarioFileSchema", "deep_merge"]

# A Literal built from the presets at import time: pydantic validates it, mypy cannot
# read a computed Literal (so the one ignore below).
PresetName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` written on top, tables merged key by key.

    >>> deep_merge({"mix": {"a": 1, "b": 2}, "x": 0}, {"mix": {"b": 3}})
    {'mix': {'a': 1, 'b': 3}, 'x': 0}
    """
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


class PolicyEntry(Policy):
    """One ``[[policies]]`` entry: a named policy for the focal firm.

    With ``preset`` the entry starts from that preset of :data:`sim.config.presets.PRESETS`
    and the keys written in the file override it (tables such as ``acquisition_mix``
    merge key by key); without it, every key not written takes the schema default.
    """

    preset: PresetName | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "Preset to start from: " + ", ".join(f"'{p}'" for p in PRESETS) + "; keys written "
            "next to it override the preset's values (tables merge key by key)."
        ),
    )
    name: str = Field(
        ...,
        min_length=1,
        description="Name shown in results (required unless a preset gives it).",
    )

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("preset"), str):
            preset = PRESETS.get(data["preset"])
            if preset is not None:
                return deep_merge(preset.model_dump(), data)
        return data

    def to_policy(self) -> Policy:
        """The engine's Policy (the preset reference dropped)."""
        return Policy.model_validate(self.model_dump(exclude={"preset"}))


class OutputsSpec(Spec):
    """What a run writes besides the tables (which are always written)."""

    plots: bool = Field(True, description="Draw the figures into plots/ and the report.")
    report: bool = Field(True, description="Write report.html (self-contained, images embedded).")
    formats: tuple[Literal["png", "svg"], ...] = Field(
        ("png",),
        min_length=1,
        description=(
            "Image formats written to plots/: PNG only by default (the report embeds PNG); "
            'add "svg" for vector copies (drawing them about doubles the time figures take).'
        ),
    )
    currency: str | None = Field(
        None,
        description=(
            "Currency of every amount of money in the report, as a three-letter ISO 4217 "
            'code in capitals (e.g. "EUR", "USD", "GBP"); EUR, USD, GBP, JPY are written as '
            "their symbol, other codes before the number. Default: none (plain numbers)."
        ),
    )
    dpi: Annotated[int, Unit("dots per inch")] = Field(
        110, ge=50, le=600, description="Resolution of PNG figures (dots per inch)."
    )
    band: Annotated[float, Unit("share")] = Field(
        0.9,
        gt=0.0,
        lt=1.0,
        description="Share of replications inside the bands of the time plots (0.9 = 5%-95%).",
    )
    network_sample: Annotated[int, Unit("customers")] = Field(
        300,
        ge=0,
        le=5000,
        description=(
            "Customers in the network snapshot (a snowball sample of the social graph, "
            "first replication of each policy); 0 = no snapshot."
        ),
    )
    incremental_replications: Annotated[int, Unit("replications")] = Field(
        1,
        ge=0,
        le=1000,
        description=(
            "Replications of the baseline policy (the first) whose calibration table gets "
            "the incremental acquisition rows: four hold-out runs each, the same seed without "
            "the focal firm's acquisition spend (all of it, then each channel), in the first "
            "scenario variant, so the acquisition-cost and payback rows agree with what a "
            "sweep of the spend shows (issue 10). One seed's figure varies by about 20% "
            "between seeds at 10,000 customers: raise this for a firmer figure. Only for "
            "'marketsim run' (sweeps and sensitivity write no calibration table). 0: the "
            "attributed rows only."
        ),
    )

    transactions: bool = Field(
        False,
        description=(
            "Write each run's transaction log (one row per purchase: customer_id, date, "
            "amount, firm; the shape marketsim calibrate reads) as transactions.csv or "
            ".parquet; off by default, as recording costs time and space."
        ),
    )
    transactions_format: Literal["csv", "parquet"] = Field(
        "csv", description="File format of the transaction log: 'csv' or 'parquet'."
    )
    transactions_firms: Literal["focal", "all"] = Field(
        "focal", description="Whose purchases the log holds: the focal firm's or every firm's."
    )
    transactions_sample: Annotated[float, Unit("share")] = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description=(
            "Share of the market's people whose purchases are logged (the same people in "
            "every run of a replication); 1 = everybody."
        ),
    )

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(
                'expected a three-letter ISO 4217 currency code in capitals, e.g. "EUR" or "USD"'
            )
        return value


class ScenarioFileSchema(ScenarioSections):
    """The keys of a scenario file: the market's sections, policies, outputs, the
    uncertain parameters and how to sample them."""

    policies: tuple[PolicyEntry, ...] = Field(
        (PolicyEntry.model_validate({"preset": "balanced"}),),
        description=(
            "The focal firm's policies to compare ([[policies]] entries; the first is the "
            "baseline every other policy is compared with). Default: the 'balanced' preset."
        ),
    )
    outputs: OutputsSpec = Field(default_factory=lambda: OutputsSpec.model_validate({}))
    uncertainties: dict[str, UncertaintySpec] = Field(
        default_factory=dict,
        description=(
            "Market parameters nobody knows well, by dotted key path, each with a range, a "
            "distribution or a list of choices; every policy runs on markets sampled from "
            "them (see [experiment])."
        ),
    )
    experiment: ExperimentSpec = Field(default_factory=lambda: ExperimentSpec.model_validate({}))
