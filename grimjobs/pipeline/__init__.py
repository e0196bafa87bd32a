"""The recording pipeline: a frame pool, the paced capture loop and the encode loop."""
