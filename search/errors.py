"""Domain errors. The CLI and the app turn these into one-line messages; nothing else should."""


class OnrecordError(Exception):
    """A problem the user can act on; its message is shown as is."""


class NotFound(OnrecordError):
    """No interview matches the id the user gave."""


class Ambiguous(OnrecordError):
    """The reference the user gave matches several interviews; the message names them."""


class NoArchive(OnrecordError):
    """A command that only reads was pointed at a place that holds no archive; it creates none."""

    def __init__(self, location: str):
        super().__init__(f"no archive at {location}: nothing has been ingested there "
                         "(check the path; `onrecord ingest` creates an archive)")


class SourceError(OnrecordError):
    """One source of a batch could not be ingested; the batch carries on."""


class StorageError(OnrecordError):
    """The archive's storage failed: a Chroma server gone away, a full, locked or read-only disk. Nothing committed
    is lost; the same call may work later."""
