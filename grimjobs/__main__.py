"""`python -m grimjobs <job> [overrides]`: pick the job from argv[1], hand the rest to its Hydra app."""

from __future__ import annotations

import importlib
import os
import sys

from grimjobs import __version__
from grimjobs.jobs import JOBS

USAGE = "usage: grimjobs <job> [hydra overrides]   (grimjobs <job> --help for a job's options)"


def usage() -> str:
    width = max(map(len, JOBS))
    lines = [f"grimjobs {__version__}", USAGE, "", "jobs:"]
    lines += [f"  {name:<{width}}  {summary}" for name, summary in JOBS.items()]
    lines += ["", "example: grimjobs record capture=window game=manny"]
    return "\n".join(lines)


def _completion_job(args: list[str]) -> str | None:
    """Shell completion calls `grimjobs -sc query=bash` with the typed line in COMP_LINE.

    Find the job in that line and strip it, so Hydra completes that job's overrides as if the
    program were `grimjobs <job>`. Without a job yet, complete the job name instead.
    """
    line = os.environ.get("COMP_LINE")
    if line is None or not args or args[0] not in ("-sc", "--shell-completion"):
        return None
    words = line.split()
    for position, word in enumerate(words[1:], start=1):
        if word in JOBS and (len(words) > position + 1 or line.endswith(" ")):
            os.environ["COMP_LINE"] = " ".join(["grimjobs", *words[position + 1 :]]) + (
                " " if line.endswith(" ") else ""
            )
            return word
    if any(arg.startswith("query") for arg in args):
        typed = "" if line.endswith(" ") else words[-1]
        print(" ".join(name for name in JOBS if name.startswith(typed)))
        sys.exit(0)
    return "record"  # `-sc install=bash`: any job prints the same script


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    job = _completion_job(args)
    if job is None:
        if not args or args[0] in ("-h", "--help", "help"):
            print(usage())
            return
        if args[0] in ("-V", "--version"):
            print(f"grimjobs {__version__}")
            return
        job = args.pop(0)
        if job not in JOBS:
            print(f"grimjobs: error: unknown job {job!r}; jobs: {', '.join(JOBS)}", file=sys.stderr)
            sys.exit(2)
    if job == "rerun":
        from grimjobs.jobs.rerun import rerun_argv

        job, args = rerun_argv(args)
    module = importlib.import_module(f"grimjobs.jobs.{job}")
    sys.argv = [f"grimjobs {job}", *args]
    module.main()


if __name__ == "__main__":
    main()
