"""Capture sources: one module per backend behind the `CaptureSource` interface in `base`."""
