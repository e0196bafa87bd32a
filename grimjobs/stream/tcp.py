"""GrimStream over TCP (`stream=tcp`): viewers connect to tcp://127.0.0.1:17400 by default."""

from __future__ import annotations

from pydantic import Field

from grimjobs.stream.publisher import GrimStreamPublisher, GrimStreamSettings


class TcpSettings(GrimStreamSettings):
    url: str = Field("tcp://127.0.0.1:17400", description="tcp://HOST:PORT to listen on")


class TcpStream(GrimStreamPublisher):
    Settings = TcpSettings
