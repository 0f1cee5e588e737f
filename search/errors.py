"""Domain errors. The CLI and the app turn these into one-line messages; nothing else should."""


class OnrecordError(Exception):
    """A problem the user can act on; its message is shown as is."""


class NotFound(OnrecordError):
    """No interview matches the id the user gave."""


class SourceError(OnrecordError):
    """One source of a batch could not be ingested; the batch carries on."""
