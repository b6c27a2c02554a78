"""The error a failed data gate raises; light to import for the CLI."""


class DataValidationError(RuntimeError):
    """Raised when the data fails a critical check; the message says which
    checks, on how many images, example ids, and where the full report is
    (`report`: its report.json, for whoever records the stop)."""

    def __init__(self, message: str, report: str = ""):
        super().__init__(message)
        self.report = report
