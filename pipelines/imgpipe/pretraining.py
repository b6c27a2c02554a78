"""The pretraining branch of the pipeline: unlabelled images to a backbone.

With `train.pretrain_epochs` > 0 the one pipeline factory (pipeline.py)
adds three nodes and gives the Trainer the Pretrainer's model as its
standard `base_model` input (docs/pretraining.md):

    UnlabelledExampleGen     <data>/unlabelled/*: the same reading, size
                             limits and quarantine report as ImageExampleGen
     -> UnlabelledStatisticsGen   TFDV statistics of the unlabelled images
     -> Pretrainer           rotation prediction on the Trainer's architecture,
                             through the labelled data's Transform graph

The data gate does not run on unlabelled images: its checks are of labels
(vocabulary, conflicts, class balance, label drift) or of the train/eval
split, and an unlabelled image has neither. Its per-image checks that do
apply (readable, decodable, within the pixel limit, an image format) are
ImageExampleGen's, and quarantine unlabelled files the same way.
"""
from __future__ import annotations

from typing import Any, List

from tfx.components import StatisticsGen, Trainer

from imgpipe.config import PipelineConfig
from imgpipe.locations import Locations
from imgpipe_components.image_example_gen.component import image_example_gen

PRETRAIN_RUN_FN = "imgpipe_components.pretrain.pretrainer_module.run_fn"
PRETRAINER = "Pretrainer"


def pretraining_nodes(config: PipelineConfig, locations: Locations,
                      transform, train_config: Any) -> List:
    """The branch's nodes in order, the Pretrainer last; none when
    pretraining is off. `train_config` is the Trainer's custom_config."""
    if not config.train.pretrain_epochs:
        return []
    unlabelled = image_example_gen(
        locations.data_root, config.data_gate.max_pixels, config.ingest,
        unlabelled=True)
    statistics = StatisticsGen(
        examples=unlabelled.outputs["examples"]
    ).with_id("UnlabelledStatisticsGen")
    pretrainer = Trainer(
        run_fn=PRETRAIN_RUN_FN,
        examples=unlabelled.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        custom_config=train_config).with_id(PRETRAINER)
    return [unlabelled, statistics, pretrainer]
