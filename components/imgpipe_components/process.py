"""Process set-up, done once for every entry point.

The CLI, the local and Kubeflow runners, a KFP step's entrypoint, the tests
and the benchmarks all import `imgpipe_components` (directly or through
`imgpipe`) before TensorFlow, TFX or Great Expectations, and its package
init calls `configure()`: nothing else sets these.
"""
from __future__ import annotations

import os
import sys
import warnings


def configure() -> None:
    # TFX 1.16, tf.Transform and TFMA are built on Keras 2 (the tf-keras
    # package); TensorFlow 2.16 would otherwise bind tf.keras to Keras 3 on
    # first use.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # TensorFlow's C++ start-up lines (CUDA plugin registration on a CPU
    # machine) are not actionable; Python-side errors still surface.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Google client libraries warn about Python 3.10 on every import; the
    # version is pinned by TFX 1.16.
    warnings.filterwarnings("ignore", category=FutureWarning)
    # jsonschema imports the optional `rfc3987_syntax` (pulled in by Jupyter,
    # a TFMA dependency) to check the "iri" string format, and that package
    # compiles dozens of Lark grammars at import, in every process that
    # imports TFX or Great Expectations. Nothing here validates IRIs; without
    # the module jsonschema has no "iri" format checker. Only possible before
    # jsonschema is loaded.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
