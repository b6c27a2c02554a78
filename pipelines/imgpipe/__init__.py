"""The pipeline and what builds and runs it: the pipeline factory, settings
composition, locations, the local and Kubeflow runners, the CLI and the
local TF Serving stand-in. The steps themselves are `imgpipe_components`.
"""
import imgpipe_components  # noqa: F401  (process set-up before any library)
