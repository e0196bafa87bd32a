"""A real local Ray cluster for tests and benchmarks: `ray start --head --block` on 127.0.0.1.

The head runs as one child process in its own session; stopping it (SIGTERM to that process, then
its process group) ends exactly the Ray processes it started, never another user's (`ray stop`
would stop every Ray on the machine). Every port is chosen free on loopback, so two clusters
(two CI jobs, a test and a benchmark) never collide, and nothing listens beyond loopback:
RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray use the loopback address as the node address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_executable() -> Path:
    """The `ray` CLI of this interpreter's installation (beside it in a venv), else on PATH."""
    beside = Path(sys.executable).with_name("ray")
    if beside.is_file():
        return beside
    found = shutil.which("ray")
    if found is None:
        raise RuntimeError("the ray CLI is not installed: pip install -e '.[ray]'")
    return Path(found)


@dataclass(frozen=True, slots=True)
class RayHead:
    address: str  # host:port of the GCS, for hydra.launcher.ray.init.address
    temp_dir: Path
    env: dict[str, str]  # the environment a driver needs to join over loopback

    def overrides(self) -> list[str]:
        return [
            "hydra/launcher=ray",
            f"hydra.launcher.ray.init.address={self.address}",
            "++hydra.launcher.ray.init.object_store_memory=null",
        ]


@contextlib.contextmanager
def local_ray_head(num_cpus: int = 2, start_timeout: float = 120.0) -> Iterator[RayHead]:
    """Start a head with `num_cpus` worker slots (its workers are local processes), yield, stop it."""
    # Ray's socket paths must stay short (AF_UNIX limit): a fresh folder directly under /tmp.
    temp_dir = Path(tempfile.mkdtemp(prefix="grimray", dir="/tmp"))
    port = free_port()
    env = {**os.environ, **LOOPBACK_ENV, "RAY_TMPDIR": str(temp_dir)}
    command = [
        str(ray_executable()),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--num-cpus={num_cpus}",
        "--num-gpus=0",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--ray-client-server-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--temp-dir={temp_dir}",
    ]
    log = temp_dir / "head.log"
    with log.open("wb") as sink:
        head = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(head, log, start_timeout)
        # RAY_ADDRESS: what conf/hydra/launcher/ray_cluster.yaml joins.
        yield RayHead(f"127.0.0.1:{port}", temp_dir, {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"})
    finally:
        _stop(head)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_ready(head: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if head.poll() is not None:
            raise RuntimeError(
                f"ray start --head exited {head.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        if b"Ray runtime started" in log.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"ray head not ready in {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(head: subprocess.Popen[bytes]) -> None:
    """SIGTERM: `ray start --block` then stops the processes it started; the group is the backstop."""
    if head.poll() is None:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(head.pid, signal.SIGKILL)  # the head's own session: only what it started
