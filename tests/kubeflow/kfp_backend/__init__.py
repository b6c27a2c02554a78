"""A simulation of the open-source KFP 2.x backend, for compiled specs.

It runs a compiled PipelineSpec the way KFP's driver and launcher, under
Argo, run it, step by step in this process through the real container
entrypoint, and fails loudly (NotImplementedError) on any construct it does
not model. What it follows, in kubeflow/pipelines:

- backend/src/v2/compiler/argocompiler/dag.go: DAG tasks (sub-DAGs such as
  TFX's `tfx-dag`) and exit tasks (trigger strategy
  ALL_UPSTREAM_TASKS_COMPLETED) run as an exit hook of the DAG they depend
  on, however it ended; every other task waits on its dependencies with
  Argo's enhanced `depends: A.Succeeded && B.Succeeded`, so a task whose
  upstream was skipped or failed is Omitted: it never runs, not even its
  driver.
- backend/src/v2/driver/resolve.go (resolveInputs, resolveInputParameter):
  constants, `{{$.pipeline_job_uuid}}`-style placeholders, parameters of
  the parent DAG ("parent DAG does not have input parameter" when it does
  not declare one), upstream output parameters and artifacts, the task
  final status (state of the producer, empty error), and the type checks
  and conversions of handleParamTypeValidationAndConversion (a struct given
  to a STRING parameter becomes its JSON text).
- backend/src/v2/expression/expression.go (Condition): the trigger
  condition is CEL over the ExecutorInput, evaluated here by cel-python; a
  false condition publishes the execution as CANCELED (driver/container.go,
  metadata/client.go NotTriggered) and Argo shows the task Skipped.
- backend/src/v2/cacheutils/cache.go (GenerateCacheKey,
  GenerateFingerPrint) and driver/cache.go (getFingerPrint,
  getFingerPrintsAndID): the cache key is the input artifacts' names (ML
  Metadata ids), the input parameter values, the output specs without URIs,
  the image and command; a hit is looked up by fingerprint, pipeline name
  and namespace among earlier successful executions and reuses their output
  artifacts (the same ids) without running the container.
- backend/src/v2/metadata/client.go (UpdateDAGExecutionsState): a DAG is
  COMPLETE when every task is COMPLETE, CACHED or CANCELED, FAILED when one
  failed, and otherwise stays RUNNING (an Omitted task has no execution), the
  state the exit task then sees.
- backend/src/v2/driver/driver.go (provisionOutputs) and
  component/launcher_v2.go (collectOutputParameters): output URIs
  `<pipeline root>/<pipeline>/<run id>/<task>/<key>`, output parameters
  read from the ExecutorOutput; a failed step's outputs are never published.

Retries (retryPolicy) are not replayed here (tests/kubeflow/argo_retry.py
models Argo's backoff); a failing step fails once.
"""
from tests.kubeflow.kfp_backend.backend import Backend, Run  # noqa: F401
