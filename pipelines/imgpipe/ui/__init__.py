"""`imgpipe ui`: a local web UI over one output folder of the embedded runner.

It reads what the runs recorded and nothing else: ML Metadata (through the
ml_metadata API, `store.py`), the artifact files under the pipeline root
(`files.py`), the run logs (`failure.py`) and the model store
(`models.py`). Pages are rendered on the server with Jinja2 (`app.py`,
`templates/`); nothing is fetched from the network, so it works offline.
"""
