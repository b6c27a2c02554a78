"""Names shared by the Evaluator config and the readers of its output;
kept free of TFMA so the CLI can import them cheaply."""
ACCURACY = "sparse_categorical_accuracy"
CANDIDATE, BASELINE = "candidate", "baseline"
