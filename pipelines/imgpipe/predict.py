"""Classify image files with a pushed SavedModel's `serving_default`,
in-process or through a model server's REST API (`--server URL`).

In-process, "the model in a model dir" is the `stable` version
(model_store.in_service), as the server's `stable` label serves it. A file
that is not an image is reported with TensorFlow's reason and skipped; the
batch goes on, and the command fails at the end naming every such file.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

Ranked = List[Tuple[str, float]]


class ServerError(ValueError):
    """The model server could not be reached or refused the request."""


def predict_files(model_dir: Optional[Path], images: List[Path], top_k: int,
                  server: Optional[str] = None,
                  model_name: Optional[str] = None
                  ) -> Iterator[Tuple[Path, Ranked]]:
    """With `server`, the model is asked for by `model_name` (default: the
    model dir's name) unless the URL names one."""
    if server:
        name = model_name or (model_name_of(model_dir) if model_dir
                              else None)
        yield from predict_via_server(server, name, images, top_k)
        return
    if Path(model_dir).suffix == ".tflite":
        yield from predict_with_tflite(Path(model_dir), images, top_k)
        return
    import tensorflow as tf

    from imgpipe_components.model_store.in_service import version_in_service
    from imgpipe.serving.loader import concise_error

    version_dir = version_in_service(model_dir)
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    undecodable = []
    for path in images:
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file.")
        try:
            outputs = serve(image_bytes=tf.constant([path.read_bytes()]))
        except tf.errors.InvalidArgumentError as error:
            undecodable.append(f"{path} ({concise_error(error.message)})")
            print(f"{path}: skipped, not a decodable image: "
                  f"{concise_error(error.message)}", file=sys.stderr)
            continue
        probabilities = outputs["probabilities"].numpy()[0]
        names = [n.decode() for n in outputs["classes"].numpy()[0]]
        ranked = sorted(zip(names, probabilities.tolist()),
                        key=lambda pair: -pair[1])[:top_k]
        yield path, ranked
    if undecodable:
        raise ValueError(f"{len(undecodable)} of {len(images)} files are not "
                         f"decodable images: {'; '.join(undecodable)}. Send "
                         "PNG, JPEG, GIF or BMP files.")


def predict_with_tflite(model_file: Path, images: List[Path], top_k: int
                        ) -> Iterator[Tuple[Path, Ranked]]:
    """A TFLite export, fed by the Transform graph's own decode function
    with the input contract recorded beside it (edge_model.json)."""
    import json

    import tensorflow as tf

    from imgpipe_components.edge_export.export import METADATA, tflite_classifier
    from imgpipe_components.transform.preprocessing import decode_image

    contract = model_file.parent / METADATA
    if not model_file.is_file() or not contract.is_file():
        raise FileNotFoundError(
            f"{model_file} (and {METADATA} beside it) not found: export one "
            "with `imgpipe export-edge`.")
    meta = json.loads(contract.read_text())
    _, size, _, channels = meta["input"]["shape"]
    classify = tflite_classifier(model_file.read_bytes())
    for path in images:
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file.")
        try:
            pixels = decode_image(tf.constant(path.read_bytes()), size,
                                  channels).numpy()
        except tf.errors.InvalidArgumentError as error:
            raise ValueError(f"{path} is not a decodable image "
                             f"({error.message.splitlines()[0]}).") from None
        probabilities = classify(pixels[None])[0]
        ranked = sorted(zip(meta["class_names"], probabilities.tolist()),
                        key=lambda pair: -pair[1])[:top_k]
        yield path, ranked


def model_name_of(model_dir: Path) -> str:
    """The served name: the model folder's name (of a version's parent)."""
    model_dir = Path(os.path.abspath(model_dir))    # a link keeps its name
    return model_dir.parent.name if model_dir.name.isdigit() else model_dir.name


def predict_url(server: str, model_name: Optional[str]) -> str:
    """A server root (`http://127.0.0.1:8501`), or a model path on it
    (`.../v1/models/digits/labels/canary`) to pick a version or label."""
    server = server.rstrip("/")
    if "/v1/models/" in server:
        return server if server.endswith(":predict") else server + ":predict"
    if not model_name:
        raise ValueError(
            f"--server {server} names no model: pass --model-name NAME, the "
            "--output folder of the run that pushed it, or a model URL such "
            f"as {server}/v1/models/NAME.")
    return f"{server}/v1/models/{model_name}:predict"


def _rank(prediction: dict, top_k: int) -> Ranked:
    return sorted(zip(prediction["classes"], prediction["probabilities"]),
                  key=lambda pair: -pair[1])[:top_k]


def predict_via_server(server: str, model_name: Optional[str],
                       images: List[Path], top_k: int
                       ) -> Iterator[Tuple[Path, Ranked]]:
    """One request per image, so one bad file names itself."""
    import base64

    import httpx

    url = predict_url(server, model_name)
    refused = []
    with httpx.Client(timeout=60) as client:
        for path in images:
            if not path.is_file():
                raise FileNotFoundError(f"{path} is not a file.")
            body = {"instances": [
                {"b64": base64.b64encode(path.read_bytes()).decode("ascii")}]}
            try:
                response = client.post(url, json=body)
            except httpx.HTTPError as error:
                raise ServerError(f"Cannot reach the model server at {url} "
                                  f"({error}). Start one with `imgpipe "
                                  "serve`.") from None
            if 400 <= response.status_code < 500:
                # This file's fault (not an image, too large): name it and
                # go on with the batch, as in-process prediction does.
                reason = f"{response.status_code}: {_error_text(response)}"
                refused.append(f"{path} ({reason})")
                print(f"{path}: skipped, the server answered {reason}",
                      file=sys.stderr)
                continue
            if response.status_code != 200:
                raise ServerError(f"{path}: the server answered "
                                  f"{response.status_code}: "
                                  f"{_error_text(response)}")
            yield path, _rank(response.json()["predictions"][0], top_k)
    if refused:
        raise ServerError(f"{len(refused)} of {len(images)} files were "
                          f"refused by the server: {'; '.join(refused)}")


def _error_text(response) -> str:
    try:
        return response.json().get("error", response.text)
    except ValueError:
        return response.text
