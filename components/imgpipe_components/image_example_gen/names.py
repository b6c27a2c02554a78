"""Ids of the ingestion steps that light modules (the run summary, the
Kubeflow compiler) name without importing TFX."""

# The second ImageExampleGen of a run that pretrains: the images in the
# reserved unlabelled/ folder (formats.UNLABELLED_FOLDER).
UNLABELLED_EXAMPLE_GEN = "UnlabelledExampleGen"
