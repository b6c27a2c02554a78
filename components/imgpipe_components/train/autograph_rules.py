"""Keep AutoGraph from transpiling Keras 2 itself.

AutoGraph skips modules named `keras` but not `tf_keras`, the package that
TFX 1.16 trains with (TF_USE_LEGACY_KERAS=1). It then converts hundreds of
Keras internals on the first `fit`: measured here 22.8 s for the first epoch
of the small CNN, 2.7 s with this rule (benchmarks/README.md). Keras code is
already graph-safe, as it is for the `keras` package.
"""
from __future__ import annotations


def skip_tf_keras() -> None:
    from tensorflow.python.autograph.core import config

    if not any(str(rule) == "DoNotConvert rule for tf_keras"
               for rule in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (config.DoNotConvert("tf_keras"),
                                   *config.CONVERSION_RULES)
