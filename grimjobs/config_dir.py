"""Where the Hydra configs live, for a checkout and for an installed wheel alike."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def config_dir() -> Path:
    """`conf/` beside the package in a checkout; `grimjobs/conf` inside an installed wheel."""
    checkout = _PACKAGE.parent / "conf"
    if (checkout / "record.yaml").is_file():
        return checkout
    return _PACKAGE / "conf"
