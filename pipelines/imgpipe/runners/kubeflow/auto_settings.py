"""Training defaults for a Kubeflow build, chosen as `imgpipe run` chooses
them (pipelines/imgpipe/auto_settings.py), but from what the cluster run will
see: the images under `data_root` (a sample of headers, read from gs:// with
ranged downloads, of the latest span when spans are configured) and the
hardware the Trainer step asks for (its GPUs and CPU request), not the
machine that compiles.

Settings given as options or in `--config` win. When the data cannot be read
at compile time (no credentials here, an empty bucket), the build keeps the
built-in defaults and says why; `--no-auto-settings` asks for that directly.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from imgpipe.config import PipelineConfig
from imgpipe import auto_settings
from imgpipe.data_profile import DataProfile, Hardware, profile_listing
from imgpipe.runners.kubeflow.settings import KubeflowConfig

# Enough for the header of a PNG, GIF or BMP, and of a JPEG with its EXIF
# block (at most 64 KiB); a sample whose header lies beyond is skipped.
HEADER_BYTES = 64 * 1024


def trainer_hardware(kubeflow: KubeflowConfig) -> Hardware:
    return Hardware(gpus=kubeflow.gpu_count, cpus=max(1, int(
        kubeflow.resources_for("Trainer").cpu_request)))


def data_profile(data_root: str, ingest) -> Tuple[Optional[DataProfile], str]:
    """The profile of the data a run would ingest now, or None and why."""
    from imgpipe_components.image_example_gen import spans
    from imgpipe_components.image_example_gen.image_records import \
        IMAGE_EXTENSIONS
    from imgpipe_components.storage import StorageError, files

    retry = files.RetrySettings.from_ingest(ingest)
    try:
        listing = files.list_tree(data_root, retry)
        if ingest.span_pattern:
            listing = listing.under(spans.choose(ingest.span_pattern,
                                                 listing.dirs).folder)
    except (StorageError, ValueError) as error:
        return None, str(error)
    profile = profile_listing(
        listing, tuple(IMAGE_EXTENSIONS),
        lambda uri: files.read_bytes(uri, retry, limit=HEADER_BYTES))
    if profile is None:
        return None, (f"{listing.root} holds no class folders of readable "
                      "images")
    return profile, ""


def choose_defaults(config: PipelineConfig, kubeflow: KubeflowConfig,
                    given: Dict[str, object]) -> Tuple[PipelineConfig,
                                                       List[str]]:
    """`config` with the chosen settings, and one line per setting saying
    why. `given`: setting name -> value the user set (option or file)."""
    profile, problem = data_profile(kubeflow.data_root, config.ingest)
    if profile is None:
        return config, [f"kept the built-in defaults: cannot profile "
                        f"data_root now ({problem})"]
    choice = auto_settings.choose(profile, trainer_hardware(kubeflow), given,
                                  given_where="set by option or --config")
    lines = [f"data_root {kubeflow.data_root}: {profile.images} images, "
             f"{profile.classes} classes; Trainer step: "
             f"{kubeflow.gpu_count} GPU(s), "
             f"{trainer_hardware(kubeflow).cpus} CPU(s)"]
    return auto_settings.apply(config, choice), lines + list(choice.reasons)
