"""Encoder sweeps: collect the members of a multirun folder, rank them, find the Pareto front,
write the report (table + plot). `pareto` and `table` logic is pure; `plot` imports matplotlib."""
