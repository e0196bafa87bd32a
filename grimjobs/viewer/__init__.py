"""The viewer: alignment of live streams (pure), rendering to RGB images (pure numpy), offline
session playback, the live GrimStream subscriber and the SDL2 window. See docs/VIEWER.md."""
