import os
import sys

# TFX 1.16, tf.Transform and TFMA are built on Keras 2 (the tf-keras package);
# TensorFlow 2.16 would otherwise bind tf.keras to Keras 3 on first use.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# jsonschema imports the optional `rfc3987_syntax` (pulled in by Jupyter,
# a TFMA dependency) to check the "iri" string format, and that package
# compiles 38 Lark grammars at import: 3.4 s of every process that imports
# TFX (through the Kubernetes client) or Great Expectations, a third of a
# cached re-run. Nothing here validates IRIs; without the module jsonschema
# simply has no "iri" format checker. Only done before jsonschema is loaded.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
