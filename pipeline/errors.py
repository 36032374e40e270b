"""Errors a user can fix; the CLI prints them as one line (exit code 2)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message says what is wrong and with which file or value."""


class VideoError(UserError):
    """A video file is missing, unreadable, empty or of an unsupported format."""


class ConfigError(UserError):
    """A store config is malformed or refers to things that do not exist."""


class WeightsError(UserError):
    """Model weights are missing or not a usable model file."""
