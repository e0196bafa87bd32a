"""Fixtures of the viewer tests: real GrimStream producers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grimjobs.stream import protocol as p
from grimjobs.stream.engine import EnginePublisher
from grimjobs.stream.server import StreamServer
from tests.viewer.helpers import H, Producers, W


@pytest.fixture
def producers() -> Iterator[Producers]:
    controls: list[tuple[str, str]] = []

    def on_retail(control: p.Control, peer: str) -> None:
        controls.append(("retail", control.kind))

    def on_engine(control: p.Control, peer: str) -> None:
        controls.append(("engine", control.kind))

    retail = StreamServer("tcp://127.0.0.1:0", "retail", "test", on_control=on_retail).start()
    engine = EnginePublisher("tcp://127.0.0.1:0", build="test", on_control=on_engine).start()
    retail.set_config(p.StreamConfig(width=W, height=H, stride_bytes=W * 4, nominal_fps=30.0))
    try:
        yield Producers(retail, engine, controls)
    finally:
        retail.close()
        engine.close()
