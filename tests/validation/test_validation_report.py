"""report=<folder>: PNG plots per session and an index.html with verdicts, reasons and links."""

from __future__ import annotations

from pathlib import Path

from grimjobs.validation.report import write_reports
from grimjobs.validation.validator import SessionValidator
from tests.conftest import run_grimjobs
from tests.validation.fixtures import SessionSpec, write_session

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_writes_three_plots_and_an_index(tmp_path: Path) -> None:
    validator = SessionValidator(SessionValidator.Settings())
    reports = [
        validator.check(write_session(tmp_path / "good", SessionSpec(jitter_ms=3))),
        validator.check(write_session(tmp_path / "frozen", SessionSpec(picture="frozen"))),
    ]
    index = write_reports(reports, tmp_path / "report")
    pngs = sorted(p.name for p in (tmp_path / "report").glob("*.png"))
    assert pngs == [
        f"{i:03d}_{n}_{k}.png"
        for i, n in enumerate(["good", "frozen"])
        for k in ("drift", "input", "intervals")
    ]
    assert all((tmp_path / "report" / name).read_bytes().startswith(PNG) for name in pngs)
    page = index.read_text()
    assert all(f'src="{name}"' in page for name in pngs)
    assert "PASS" in page and "WARN: frozen video" in page


def test_validate_job_report_option(tmp_path: Path) -> None:
    write_session(tmp_path / "s")
    done = run_grimjobs(
        "validate", f"path={tmp_path / 's'}", f"report={tmp_path / 'r'}", f"hydra.run.dir={tmp_path / 'v'}"
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "index.html").is_file() and len(list((tmp_path / "r").glob("*.png"))) == 3
