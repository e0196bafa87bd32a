"""GrimStream over a Unix domain socket (`stream=uds`): unix:///tmp/grim-retail.sock by default."""

from __future__ import annotations

from pydantic import Field

from grimjobs.stream.publisher import GrimStreamPublisher, GrimStreamSettings


class UdsSettings(GrimStreamSettings):
    url: str = Field("unix:///tmp/grim-retail.sock", description="unix:///path.sock to listen on")


class UdsStream(GrimStreamPublisher):
    Settings = UdsSettings
