"""Video encoders: PyAV sinks that write capture.mp4 (one config per codec in conf/encoder/)."""
