"""The benchmark runner's contract: ratios oriented so > 1 is better, goals, and modules that are
missing, lack `run`, fail or return the wrong thing are reported in the table, never a crash."""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Iterator

import pytest

from benchmarks import run as runner
from benchmarks.common import Result


def test_ratio_orientation_and_goal() -> None:
    fps = Result("pipeline", value=57.0, baseline=60.0, unit="fps", goal=0.95)
    assert fps.ratio == pytest.approx(0.95) and fps.met is True
    slow = Result("pipeline", value=50.0, baseline=60.0, unit="fps", goal=0.95)
    assert slow.met is False
    latency = Result("latency", value=2.0, baseline=1.0, unit="ms", higher_is_better=False, goal=0.4)
    assert latency.ratio == 0.5 and latency.met is True
    assert Result("x", 1.0, 0.0, "fps").ratio == math.inf
    assert Result("startup", 0.5, 0.05, "s", higher_is_better=False).met is None
    assert Result("x", 2.0, 1.0, "fps").as_dict()["ratio"] == 2.0


@pytest.fixture
def fake_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    good = types.ModuleType("benchmarks.fake_good")
    good.run = lambda quick: [Result("good", 10.0 if quick else 20.0, 10.0, "fps", goal=0.95)]  # type: ignore[attr-defined]
    norun = types.ModuleType("benchmarks.fake_norun")
    failing = types.ModuleType("benchmarks.fake_failing")

    def boom(quick: bool) -> list[Result]:
        raise RuntimeError("device busy")

    failing.run = boom  # type: ignore[attr-defined]
    wrong = types.ModuleType("benchmarks.fake_wrong")
    wrong.run = lambda quick: {"fps": 1}  # type: ignore[attr-defined]
    for module in (good, norun, failing, wrong):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(
        runner,
        "BENCHMARKS",
        (
            ("good", "benchmarks.fake_good", "good vs base"),
            ("absent", "benchmarks.fake_absent_module", "absent vs base"),
            ("norun", "benchmarks.fake_norun", "norun vs base"),
            ("failing", "benchmarks.fake_failing", "failing vs base"),
            ("wrong", "benchmarks.fake_wrong", "wrong vs base"),
        ),
    )
    yield


def test_runner_reports_every_area_in_one_table(
    fake_modules: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = runner.main(["--quick"])
    out = capsys.readouterr().out
    lines = {line.split("|")[1].strip().split(":")[0]: line for line in out.splitlines()[2:]}
    assert set(lines) == {"good", "absent", "norun", "failing", "wrong"}
    assert "1.000" in lines["good"] and "| ok" in lines["good"]
    assert "missing: no benchmarks/fake_absent_module.py yet" in lines["absent"]
    assert "missing: benchmarks.fake_norun has no run(quick)" in lines["norun"]
    assert "error: RuntimeError: device busy" in lines["failing"]
    assert "error: TypeError" in lines["wrong"]
    assert status == 0  # the only measured goal was met


def test_runner_exit_status_and_only(fake_modules: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--only", "good"]) == 0  # full size: ratio 2.0
    assert "absent" not in capsys.readouterr().out
    below = Result("good", 5.0, 10.0, "fps", goal=0.95)
    sys.modules["benchmarks.fake_good"].run = lambda quick: [below]  # type: ignore[attr-defined]
    assert runner.main(["--only", "good"]) == 1
    assert "BELOW GOAL" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        runner.main(["--only", "nonsense"])
