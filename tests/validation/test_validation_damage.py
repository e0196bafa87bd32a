"""Sessions damaged the ways crashes and bad files damage them: each FAILs for a reason a person
understands, only that session FAILs, and repair never cuts valid records."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np

from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import read_actions_table
from grimjobs.validation.repair import repair_session
from grimjobs.validation.validator import SessionReport, SessionValidator
from tests.conftest import run_grimjobs
from tests.validation.fixtures import SessionSpec, tear_tail, write_session


def check(path: Path) -> SessionReport:
    return SessionValidator(SessionValidator.Settings()).check(path)


def reasons(report: SessionReport) -> str:
    return " | ".join(report.reasons)


def header_only_mp4(path: Path) -> bytes:
    """What a recorder killed before its first fragment leaves: the fragmented MP4's header (ftyp +
    empty moov), written by the recorder's own container options and copied before any fragment."""
    import av

    from grimjobs.encoder.pyav import FRAGMENTED_MP4

    container = av.open(str(path), mode="w", format="mp4", container_options=FRAGMENTED_MP4)
    stream = container.add_stream("libx264", options={"preset": "ultrafast"})
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.time_base = Fraction(1, 90000)
    frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
    frame.pts = 0
    container.start_encoding()  # writes the header, as the recorder's first mux does
    for packet in stream.encode(frame):  # x264 holds the frame back: nothing is muxed yet
        container.mux(packet)
    header = path.read_bytes()
    container.close()
    return header


def test_kill_before_the_first_fragment_fails_in_words(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=60))
    header = header_only_mp4(tmp_path / "header.mp4")
    for keep in (len(header), len(header) // 2, 12):
        (session / CAPTURE).write_bytes(header[:keep])
        report = check(session)
        assert report.verdict == "FAIL" and report.truncated, reasons(report)
        text = reasons(report)
        assert "recorder stopped (killed?)" in text and "sync.csv" in text and "60" in text, text
        assert "Operation not permitted" not in text and "Errno" not in text


def test_mid_file_corruption_resynchronises_and_repair_keeps_every_valid_record(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=90))
    file = session / ACTIONS
    clean = read_actions_table(file)
    data = bytearray(file.read_bytes())
    middle = int(clean.record_offsets[len(clean) // 2])
    data[middle : middle + 4] = (0xFFFFFFF0).to_bytes(4, "little")  # a length no record has
    file.write_bytes(bytes(data))
    damaged = read_actions_table(file)
    assert len(damaged) == len(clean) - 1  # only the record whose prefix was hit is lost
    assert damaged.torn_bytes == 0 and damaged.corrupt_ranges == (
        (middle, int(clean.record_offsets[len(clean) // 2 + 1])),
    )
    assert np.array_equal(np.delete(clean.monotonic_ns, len(clean) // 2), damaged.monotonic_ns)
    report = check(session)
    assert report.verdict == "FAIL" and "corrupt in the middle" in reasons(report)
    before = file.read_bytes()
    result = repair_session(session)
    assert any("corrupt in the middle" in p for p in result.problems)
    assert file.read_bytes() == before  # nothing cut
    # A torn tail after the damage is still cut, and the valid records before it are all kept.
    tear_tail(file)
    torn = read_actions_table(file)
    result = repair_session(session)
    assert len(read_actions_table(file)) == len(torn) == len(damaged) - 1
    assert any("torn tail" in a for a in result.actions)


def test_crafted_trun_count_fails_without_allocating(tmp_path: Path) -> None:
    """A trun with no per-sample fields claiming 2**32 - 16 samples: validate in a subprocess allowed
    1 GiB more address space than it has after its imports must FAIL that session (a default-filled
    sample table would need 32 GiB)."""
    session = write_session(tmp_path / "s", SessionSpec(frames=60, video="copy"))
    data = bytearray((session / CAPTURE).read_bytes())
    trun = data.find(b"trun")
    assert trun > 0
    data[trun + 4 : trun + 8] = (0x000001).to_bytes(4, "big")  # version 0, flags: data offset only
    data[trun + 8 : trun + 12] = (0xFFFFFFF0).to_bytes(4, "big")
    (session / CAPTURE).write_bytes(bytes(data))
    script = textwrap.dedent(
        f"""
        import json, resource, sys
        from pathlib import Path
        import av, numpy
        from grimjobs.validation.validator import SessionValidator
        from grimjobs.validation.video import MalformedMP4, fragment_samples
        status = Path("/proc/self/status").read_text().split("VmSize:")[1].split()[0]
        limit = int(status) * 1024 + (1 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            fragment_samples(Path({str(session / CAPTURE)!r}))
            bounded = "no error"
        except MalformedMP4 as exc:
            bounded = str(exc)
        report = SessionValidator(SessionValidator.Settings()).check(Path({str(session)!r}))
        print(json.dumps({{"bounded": bounded, **report.as_dict()}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert "claims 4294967280 samples" in report["bounded"], report["bounded"]
    assert report["verdict"] == "FAIL" and any(CAPTURE in r for r in report["reasons"]), report["reasons"]
    assert resource.RLIMIT_AS  # the limit exists on this platform (Linux)


def test_twenty_digit_sync_field_fails_that_session_only(tmp_path: Path) -> None:
    good = write_session(tmp_path / "sessions" / "a_good", SessionSpec(frames=60))
    bad = write_session(tmp_path / "sessions" / "b_bad", SessionSpec(frames=60))
    lines = (bad / SYNC).read_bytes().split(b"\n")
    lines[10] = b"9,12345678901234567890,27000"
    (bad / SYNC).write_bytes(b"\n".join(lines))
    later = write_session(tmp_path / "sessions" / "c_good", SessionSpec(frames=60))
    report = check(bad)
    assert report.verdict == "FAIL" and f"{SYNC}:11" in reasons(report) and "18 digits" in reasons(report)
    done = run_grimjobs(
        "validate", f"path={tmp_path / 'sessions'}", "format=json", f"hydra.run.dir={tmp_path / 'v'}"
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    verdicts = {Path(r["session"]).name: r["verdict"] for r in json.loads(done.stdout)}
    assert verdicts == {good.name: "PASS", bad.name: "FAIL", later.name: "PASS"}
