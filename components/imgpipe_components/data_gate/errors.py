"""The error a failed data gate raises; light to import for the CLI."""


class DataValidationError(RuntimeError):
    """Raised when the data fails a critical check; the message says which
    checks, on how many images, example ids, and where the full report is."""
