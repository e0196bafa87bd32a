"""grimjobs: record gameplay as synchronized, dataset-ready artifacts and stream it live."""

__version__ = "0.1.0"
