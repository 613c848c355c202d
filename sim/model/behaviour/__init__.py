"""Behaviour rules: pure functions of (state arrays, parameters, rng).

Both engines call these same rules: the vectorized engine on whole arrays, the per-agent
reference engine on one customer's values. Each rule is testable on its own.
"""
