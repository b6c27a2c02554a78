"""What runs inside a pipeline step: the custom TFX components (one folder
each), the module files of Transform, Trainer and Tuner, and what they need
below them (the model store, storage, the settings codec).

Nothing here imports the `imgpipe` package (the pipeline, its runners and
CLI); tests/unit/test_import_graph.py checks it.
"""
from imgpipe_components import process

process.configure()
