"""The one error type users see: a bad input, reported as one line and a non-zero exit."""

from __future__ import annotations


class InputError(ValueError):
    """A scenario, profile or command-line value that cannot be used.

    The message is one line that names the file, the key and what is allowed; the CLI prints it
    as it is and exits with status 2.
    """
