"""The one error type the CLI turns into a single line and a non-zero exit."""


class SmateError(Exception):
    """A problem with the user's input or environment; the message names it and the fix."""
