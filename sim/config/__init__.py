"""What a market experiment is, and reading it from scenario files (imports only sim.common).

Modules, each importing only those listed before it:

- ``units``: :class:`~sim.config.units.Unit` markers; parameters know their own unit.
- ``graph_files``: the graph kinds (one list) and reading users' graph files.
- ``introspect``: walking the schema (item models, bounds) for any root model.
- ``keypaths``: dotted key paths and ``--set`` options; the one key-path updater.
- ``schema``: the base block (finite numbers only) and the engine's :class:`~sim.config.schema.Scenario` and
  :class:`~sim.config.schema.Policy`.
- ``presets``, ``experiment_spec``: named policies; ``[uncertainties]`` and ``[experiment]``.
- ``file_schema``: the keys of a scenario file (policies, outputs, uncertainties).
- ``reader``: TOML reading, line numbers and the friendly messages.
- ``parameters``: numeric market parameters by key path (unit, whole numbers, ranges).
- ``toml_writer``: writing TOML and reading a file's comment header.
- ``scenario_file``: :class:`~sim.config.scenario_file.ScenarioFile`, loading, overrides.
- ``limits``: the memory and time an experiment needs, refused up front when it cannot fit.
- ``bundled``: the scenarios that ship with the package.
"""
