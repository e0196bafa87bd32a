"""One module per job. Each defines `main` (a Hydra app over `conf/<job>.yaml`) and `SUMMARY`.

The table below is the single list of jobs: `__main__` dispatches from it and `--help` prints it.
"""

JOBS: dict[str, str] = {
    "record": "record a session: capture.mp4 + sync.csv + actions.bin + summary.json",
    "validate": "check sessions for completeness and sync; PASS/WARN/FAIL with reasons",
    "repair": "truncate torn tails and make a partial video playable",
    "stream": "publish a capture source live over GrimStream v1",
    "view": "dual-pane live viewer, or play a recorded session with its inputs",
    "export": "turn sessions into aligned (frame, action) datasets (LeRobot v3, npz)",
    "map": "interactively bind gamepad controls to a game's actions",
    "bridge": "forward a physical gamepad to a virtual Xbox 360 controller",
    "replay": "drive a virtual controller from a session's actions.bin",
    "rerun": "run a past run folder again from its saved config: rerun <run folder> [overrides]",
    "report": "write the table and Pareto plot of an encoder sweep folder",
    "list": "list monitors, windows and game controllers",
}
