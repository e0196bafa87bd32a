"""Input devices: SDL game controllers, the scripted virtual pad, keyboard/mouse, forwarding."""
