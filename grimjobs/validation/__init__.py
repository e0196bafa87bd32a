"""Checking recorded sessions: metrics (pure numpy), verdicts, repair, and report rendering."""
