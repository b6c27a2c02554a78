"""Local disk and gs:// object storage, one client for the whole product.

`gcs` holds the google-cloud-storage client and the object operations the
model store needs (generation preconditions, server-side copies); `files`
lists and reads input data with the ingestion's retry settings.
"""


class StorageError(RuntimeError):
    """A location cannot be listed, read or written; the message says which
    URI, what went wrong and what to do."""
