"""Reproducible measurements; reports land in benchmarks/results/.

Every benchmark is run as `python -m benchmarks.<name>`, so this package init
runs first: the product's process set-up (Keras 2 for tf.keras, quiet
TensorFlow) applies to the plain-Keras floors too, which then train on the
same Keras as the pipeline.
"""
import imgpipe_components  # noqa: F401
