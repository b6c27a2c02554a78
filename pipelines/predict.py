"""Classify image files with a pushed SavedModel's `serving_default`."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple


def resolve_version_dir(model_dir: Path) -> Path:
    """A version folder itself, or the newest numbered version under it."""
    if (model_dir / "saved_model.pb").exists():
        return model_dir
    versions = sorted((int(p.name), p) for p in model_dir.glob("*")
                      if p.name.isdigit() and (p / "saved_model.pb").exists())
    if not versions:
        raise FileNotFoundError(
            f"No SavedModel under {model_dir}: expected saved_model.pb there "
            "or in numbered version folders. Run `imgpipe run` first.")
    return versions[-1][1]


def predict_files(model_dir: Path, images: List[Path], top_k: int
                  ) -> Iterator[Tuple[Path, List[Tuple[str, float]]]]:
    import tensorflow as tf

    version_dir = resolve_version_dir(model_dir)
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    for path in images:
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file.")
        try:
            outputs = serve(image_bytes=tf.constant([path.read_bytes()]))
        except tf.errors.InvalidArgumentError as error:
            raise ValueError(f"{path} is not a decodable image "
                             f"({error.message.splitlines()[0]}).") from None
        probabilities = outputs["probabilities"].numpy()[0]
        names = [n.decode() for n in outputs["classes"].numpy()[0]]
        ranked = sorted(zip(names, probabilities.tolist()),
                        key=lambda pair: -pair[1])[:top_k]
        yield path, ranked
