"""ServingPusher: TFX's Pusher with the evaluation and model report as inputs.

The evaluation is what the version's evaluation record (and so promotion)
is built from: an input, not a path guessed from the blessing's URI, which
holds on every orchestrator's artifact layout.

The report (report.html, decision.json, the images it links to) travels
inside each pushed version's assets.extra/, so it has to exist before the
version does: taking it as an input channel makes the orchestrator run
ModelReport first, on every runner (the Kubeflow compiler turns the channel
into a task dependency), and records it in ML Metadata as one of the push's
inputs. The spec is TFX's PusherSpec plus that one optional channel; the
executor is ours (executor.py).
"""
from typing import Optional

from tfx import types
from tfx.components.pusher.component import Pusher
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter

from imgpipe_components.push.executor import (EVALUATION_KEY,
                                              MODEL_REPORT_KEY, Executor)


class ServingPusherSpec(standard_component_specs.PusherSpec):
    INPUTS = {
        **standard_component_specs.PusherSpec.INPUTS,
        MODEL_REPORT_KEY: ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        EVALUATION_KEY: ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
    }


class ServingPusher(Pusher):
    """Pushes a blessed model as a numbered TF Serving version with its
    evaluation, warm-up requests and (when given) its model report."""

    SPEC_CLASS = ServingPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel,
                 model_blessing: types.BaseChannel,
                 push_destination: pusher_pb2.PushDestination,
                 model_report: Optional[types.BaseChannel] = None,
                 evaluation: Optional[types.BaseChannel] = None,
                 push_config: str = "{}"):
        """`push_config`: a PushConfig as JSON (settings_codec), carried in
        the Pusher's own custom_config parameter."""
        spec = ServingPusherSpec(
            model=model, model_blessing=model_blessing,
            push_destination=push_destination, custom_config=push_config,
            model_report=model_report, evaluation=evaluation,
            pushed_model=types.Channel(type=standard_artifacts.PushedModel))
        # BaseComponent's constructor, not Pusher's: Pusher's builds its own
        # spec without the report channel.
        base_component.BaseComponent.__init__(self, spec=spec)
