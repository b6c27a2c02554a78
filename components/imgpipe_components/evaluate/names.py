"""Names shared by the Evaluator config and the readers of its output;
kept free of TFMA so the CLI can import them cheaply."""
ACCURACY = "sparse_categorical_accuracy"
CANDIDATE, BASELINE = "candidate", "baseline"
# The local baseline resolver: it reads the stable label on every run, so it
# is never "cached" even when nothing else runs.
BASELINE_RESOLVER_ID = "served_model_resolver"
