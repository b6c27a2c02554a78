"""A local stand-in for TensorFlow Serving's REST API (FastAPI + uvicorn).

Same paths, request and response JSON, status codes, version policies,
version labels and warm-up records as `tensorflow/serving`, which runs in
the Kubernetes deployment; see docs/serving.md. TensorFlow is imported only
when a model is loaded.
"""
