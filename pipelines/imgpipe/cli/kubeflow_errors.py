"""One paragraph for what went wrong talking to Kubeflow Pipelines."""
from __future__ import annotations

PORT_FORWARD_HINT = ("kubectl port-forward -n kubeflow svc/ml-pipeline-ui "
                     "8080:80, then --host http://localhost:8080")


def explain(error: Exception, host: str) -> str:
    """One paragraph for what went wrong talking to KFP."""
    import kfp_server_api
    import urllib3

    if isinstance(error, urllib3.exceptions.HTTPError):
        return (f"Cannot reach Kubeflow Pipelines at {host} "
                f"({type(error).__name__}). Check --host; from outside the "
                f"cluster: {PORT_FORWARD_HINT}.")
    if isinstance(error, kfp_server_api.ApiException):
        what = f"KFP at {host} answered HTTP {error.status} {error.reason}"
        if error.status in (401, 403):
            return (f"{what}: not authorised. Pass --token (a bearer token) "
                    "or --cookies (e.g. authservice_session=...), and "
                    "--namespace for a multi-user profile.")
        body = (error.body or "").strip().replace("\n", " ")[:300]
        return f"{what}: {body or 'no details'}."
    return str(error)
