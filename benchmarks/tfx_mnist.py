"""TFX's own MNIST example pipeline, run as shipped, on the embedded digits.

The example (tfx/examples/mnist in the installed tfx package: ImportExampleGen,
StatisticsGen, SchemaGen, ExampleValidator, Transform, Trainer, Evaluator,
Pusher, with its native-Keras module file and its own Beam arguments) reads
TFRecords of `image_floats` (784 floats in [-0.5, 0.5]) and `image_class`.
Only the data is adapted: the 8x8 digits are upscaled to 28x28 (bicubic)
and written in that format. `write` prepares the data (not timed); `run`
is the timed process and prints one JSON line with the eval accuracy.

    python -m benchmarks.tfx_mnist write WORK
    python -m benchmarks.tfx_mnist run WORK
"""
from __future__ import annotations

import json
import sys
from pathlib import Path



def write(work: Path) -> None:
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    from imgpipe.digits import digit_pixels

    (work / "data").mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(work / "data" / "digits.tfrecord")) as out:
        for image, label in zip(*digit_pixels()):
            grey = Image.fromarray(image, "L")
            pixels = np.asarray(grey.resize((28, 28), Image.BICUBIC),
                                np.float32).reshape(-1) / 255.0 - 0.5
            out.write(tf.train.Example(features=tf.train.Features(feature={
                "image_floats": tf.train.Feature(
                    float_list=tf.train.FloatList(value=pixels)),
                "image_class": tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[int(label)])),
            })).SerializeToString())


def run(work: Path) -> None:
    from tfx.examples.mnist import mnist_pipeline_native_keras as example
    from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

    module_file = str(Path(example.__file__).with_name(
        "mnist_utils_native_keras.py"))
    BeamDagRunner().run(example._create_pipeline(   # noqa: SLF001 - as its __main__ does
        pipeline_name=example._pipeline_name,
        pipeline_root=str(work / "pipeline_root"),
        data_root=str(work / "data"), module_file=module_file,
        serving_model_dir=str(work / "serving"),
        metadata_path=str(work / "metadata.db"),
        beam_pipeline_args=example._beam_pipeline_args))
    print(json.dumps({"accuracy": eval_accuracy(work),
                      "beam_pipeline_args": example._beam_pipeline_args}))


def eval_accuracy(work: Path) -> float:
    import tensorflow_model_analysis as tfma
    evaluation = sorted((work / "pipeline_root" / "Evaluator.mnist" /
                         "evaluation").iterdir())[-1]
    result = tfma.load_eval_result(str(evaluation))
    metrics = result.slicing_metrics[0][1][""][""]
    return float(metrics["sparse_categorical_accuracy"]["doubleValue"])


if __name__ == "__main__":
    {"write": write, "run": run}[sys.argv[1]](Path(sys.argv[2]))
