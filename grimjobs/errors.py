"""Errors that mean "the user asked for something that cannot work", shown as one line, no traceback."""


class UserError(Exception):
    """A mistake the user can fix: bad config value, missing file, missing device or backend.

    The message is printed as a single line, so it must name the config key or file and the fix.
    """


class ConfigError(UserError):
    """A config value failed validation (raised before any device or file is opened)."""
