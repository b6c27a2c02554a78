"""The model in service: the version that holds the `stable` label.

One definition for every reader: `imgpipe predict` and `explain`, the
serving benchmark and the Evaluator's baseline all mean this version when
they say "the served model", not the newest folder (after a rollback, or a
canary never promoted, the newest folder is not what serves).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from imgpipe_components.model_store.actions import current_labels
from imgpipe_components.model_store.models_config import STABLE
from imgpipe_components.model_store.versions import SAVED_MODEL, list_versions

ModelDir = Union[str, Path]


class NoServedModel(FileNotFoundError):
    """No version can be served from this model dir; the message says why."""


def stable_version(model_dir: ModelDir, model_name: Optional[str] = None
                   ) -> Optional[int]:
    """The `stable` version, or None when no version holds the label."""
    return current_labels(model_dir, model_name).get(STABLE)


def version_in_service(model_dir: ModelDir) -> Path:
    """The folder to load for "the model in `model_dir`".

    `model_dir` may be a version folder itself; otherwise the `stable`
    version of models.config, or, for a folder of versions never registered
    in a models.config, the newest complete one."""
    model_dir = Path(model_dir)
    if (model_dir / SAVED_MODEL).exists():
        return model_dir
    complete = list_versions(str(model_dir), complete_only=True)
    stable = stable_version(model_dir)
    if stable is not None:
        if stable not in complete:
            raise NoServedModel(
                f"models.config names version {stable} of {model_dir} as "
                f"stable, but {model_dir / str(stable)} holds no "
                f"{SAVED_MODEL}. Restore it, or `imgpipe rollback` / "
                "`imgpipe promote` to a version that exists.")
        return model_dir / str(stable)
    if not complete:
        raise NoServedModel(
            f"No SavedModel under {model_dir}: expected {SAVED_MODEL} there "
            "or in numbered version folders. Run `imgpipe run` first.")
    return model_dir / str(complete[-1])


def servable_stable_version(model_dir: ModelDir,
                            model_name: Optional[str] = None) -> Optional[int]:
    """The stable version when its folder can be loaded (holds a
    saved_model.pb), else None, with a warning when the label points at a
    folder that is gone: the Evaluator's baseline (absolute thresholds alone
    judge a candidate when there is none)."""
    import logging

    version = stable_version(model_dir, model_name)
    if version is not None and version not in list_versions(
            str(model_dir), complete_only=True):
        logging.getLogger(__name__).warning(
            "models.config names version %d of %s as stable, but it holds no "
            "%s: no baseline, absolute thresholds alone judge the candidate",
            version, model_dir, SAVED_MODEL)
        return None
    return version
