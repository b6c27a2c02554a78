"""Augmentation throughput: the Beam component's pipeline vs a plain loop.

Both apply the same operations (`components/imgpipe_components/augment/ops.py`) to the same
train images with the same seeds; the ratio is the cost of running them as
a Beam pipeline (DirectRunner, in-process) rather than a Python loop.

    python -m benchmarks.augment_bench [--repeats 3] [--copies 4]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_results


def examples_dir(work: Path) -> Path:
    """The digits as raw-contract TFRecords in Split-train/ and Split-eval/."""
    import tensorflow as tf

    from imgpipe_components.image_example_gen import image_records
    from imgpipe.digits import write_digits
    digits = write_digits(work / "digits")
    vocabulary = sorted(folder.name for folder in digits.iterdir()
                        if folder.is_dir())
    for split in ("train", "eval"):
        (work / "examples" / f"Split-{split}").mkdir(parents=True)
    writers = {s: tf.io.TFRecordWriter(
        str(work / "examples" / f"Split-{s}" / "data.gz"), options="GZIP")
        for s in ("train", "eval")}
    for index, path in enumerate(sorted(digits.glob("*/*.png"))):
        image_id = f"{path.parent.name}/{path.name}"
        record = image_records.inspect_image(
            image_id, path.read_bytes(), vocabulary.index(path.parent.name),
            path.parent.name, 10**8)
        split = "eval" if index % 5 == 0 else "train"
        writers[split].write(image_records.to_tf_example(record)
                             .SerializeToString())
    for writer in writers.values():
        writer.close()
    return work / "examples"


def beam_seconds(examples: Path, config, out: Path, *options: str) -> float:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from imgpipe_components.augment import beam_augment
    started = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions(list(options))) as pipeline:
        beam_augment.build(pipeline, str(examples / "Split-train"),
                           str(out / "Split-train"), config, 42)
    return time.perf_counter() - started


def loop_seconds(examples: Path, config) -> float:
    import tensorflow as tf

    from imgpipe_components.augment.beam_augment import augmented_copies
    started = time.perf_counter()
    records = tf.data.TFRecordDataset(
        [str(p) for p in (examples / "Split-train").glob("*")],
        compression_type="GZIP")
    for record in records:
        for _ in augmented_copies(record.numpy(), config, 42):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    from imgpipe_components.augment.settings import AugmentConfig
    config = AugmentConfig(copies=args.copies)
    work = Path(tempfile.mkdtemp(prefix="augment-bench-"))
    examples = examples_dir(work)
    train_images = sum(1 for _ in __import__("tensorflow").data.TFRecordDataset(
        [str(p) for p in (examples / "Split-train").glob("*")],
        compression_type="GZIP"))
    augmented = train_images * args.copies
    beam_runs = [beam_seconds(examples, config, work / f"out{i}")
                 for i in range(args.repeats)]
    multi_runs = [beam_seconds(examples, config, work / f"multi{i}",
                               "--direct_running_mode=multi_processing",
                               "--direct_num_workers=2")
                  for i in range(args.repeats)]
    loop_runs = [loop_seconds(examples, config) for _ in range(args.repeats)]
    beam_rate = augmented / statistics.median(beam_runs)
    loop_rate = augmented / statistics.median(loop_runs)
    markdown = f"""# Augmentation throughput

{{HEADER}}{train_images} train images x {args.copies} copies = {augmented}
augmented images per run (the eval split is copied through as well by the
Beam pipeline); {args.repeats} runs each.

| runner | seconds per run | augmented images/s (median) |
|---|---|---|
| Beam pipeline (DirectRunner, in-process), as the component runs it | {', '.join(f'{s:.2f}' for s in beam_runs)} | {beam_rate:.0f} |
| Beam DirectRunner, multi_processing, 2 workers | {', '.join(f'{s:.2f}' for s in multi_runs)} | {augmented / statistics.median(multi_runs):.0f} |
| plain Python loop, same operations and seeds | {', '.join(f'{s:.2f}' for s in loop_runs)} | {loop_rate:.0f} |
| **Beam / loop throughput** | | **{beam_rate / loop_rate:.2f}** |
"""
    path = write_results("augment", {"beam_s": beam_runs, "loop_s": loop_runs,
                                     "beam_multiprocessing_s": multi_runs,
                                     "augmented_per_run": augmented},
                         markdown)
    print(path.read_text())


if __name__ == "__main__":
    main()
