"""Measured quality of a recording: size, speed, and PSNR/SSIM against the source frames.

`metrics` is pure (aggregation, JSON form); `compare` runs FFmpeg's psnr and ssim filters through
PyAV's filter graph; `measure` re-creates a reproducible capture source and compares a finished
session's video with it, frame by frame.
"""
