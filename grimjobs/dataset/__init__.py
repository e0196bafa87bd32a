"""From sessions to datasets: action definitions, mapping profiles, per-frame alignment, export writers."""
