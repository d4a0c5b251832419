"""User-facing errors.

Anything a user can cause with bad input (unknown names, bad ranks, malformed files,
incompatible options) raises a :class:`HypsstError` with one clear message. The CLI turns
it into that message on stderr and exit status 2, never a traceback.
"""


class HypsstError(ValueError):
    """Bad input or usage; the message names the problem and what is allowed."""


class DatasetError(HypsstError):
    """A dataset is unknown, missing, malformed or fails its checksum."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN/Inf; the run stops with exit status 1, checkpoints kept."""
