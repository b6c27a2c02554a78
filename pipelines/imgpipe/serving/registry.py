"""All served models, kept in step with models.config and the version folders.

The config is TF Serving's own `ModelServerConfig` text proto (the file
`--model_config_file` reads), so the same file drives this server locally
and `tensorflow/serving` on Kubernetes. Without a config file the server
serves one model from `--model-dir` with TF Serving's default policy (the
latest version). A poller thread re-reads both every `poll_seconds`; a
config that does not parse is logged and the last good one stays in force.

At start-up there is no last good config, so a broken one stops the
server (as it stops TF Serving) instead of serving the newest folder with
no labels. A config found beside `--model-dir` must describe that folder:
one copied with its serving folder still points at the old location, and
serving it would silently serve the wrong versions.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional

from imgpipe.serving.errors import not_found
from imgpipe.serving.served_model import ServedModel

log = logging.getLogger("imgpipe.serve")


def _single_model_config(name: str, base_path: str):
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    entry = config.model_config_list.config.add()
    entry.name, entry.base_path = name, base_path
    entry.model_platform = "tensorflow"
    return config


class StartupRefused(Exception):
    """Nothing could be served at start-up; the message says why."""


class ConfigSource:
    """Reads the model config when the file changes (rename = new inode).

    `pin_base_path`: the config was found beside the model dir (not given
    with --model-config), so it must list that model at that path."""

    def __init__(self, config_path: Optional[Path], default_name: str,
                 default_base_path: str, pin_base_path: bool = False):
        self.path = config_path
        self._default = _single_model_config(default_name, default_base_path)
        self._pin = pin_base_path
        self._seen: object = ()          # no stat key yet: read on first call
        self._config = None              # the last good one
        self.error: Optional[str] = None

    def _check_pinned(self, config) -> None:
        from imgpipe_components.model_store.models_config import ConfigError

        expected = self._default.model_config_list.config[0]
        entries = {e.name: e for e in config.model_config_list.config}
        entry = entries.get(expected.name)
        if entry is None:
            raise ConfigError(
                f"{self.path} does not list model {expected.name} (it lists "
                f"{', '.join(sorted(entries))}): pass --model-name, or "
                "--model-config to serve that config as written")
        # The same folder reached through a symbolic link (an output
        # folder that is a link, a mount point) is the same model.
        if os.path.realpath(entry.base_path) != \
                os.path.realpath(expected.base_path):
            raise ConfigError(
                f"{self.path} gives model {expected.name} base_path "
                f"{entry.base_path}, not the model dir {expected.base_path}, "
                "even with symbolic links resolved (a serving folder copied "
                "or moved?): fix base_path there, or pass --model-config to "
                "serve the config as written")

    def current(self):
        from imgpipe_components.model_store.models_config import ConfigError, read_config

        try:
            stat = os.stat(self.path) if self.path else None
        except FileNotFoundError:
            stat = None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size) if stat else None
        if key == self._seen:
            return self._config
        self._seen = key
        if key is None:
            self._config, self.error = self._default, None
            return self._config
        try:
            config = read_config(self.path)
            if self._pin and config.model_config_list.config:
                self._check_pinned(config)
        except ConfigError as error:
            self.error = str(error)
            if self._config is None:
                raise StartupRefused(str(error)) from None
            log.error("%s; keeping the previous model config", error)
            return self._config
        if not config.model_config_list.config:
            log.warning("%s lists no models; serving %s from the default "
                        "model dir", self.path, self._default.model_config_list
                        .config[0].name)
            config = self._default
        self._config, self.error = config, None
        return config


class ModelRegistry:

    def __init__(self, source: ConfigSource,
                 load: Optional[Callable[[str, int, Path], object]] = None):
        from imgpipe.serving.loader import load_version
        self._source = source
        self._load = load or load_version
        self._models: Dict[str, ServedModel] = {}
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()

    def model(self, name: str, version: Optional[int] = None) -> ServedModel:
        model = self._models.get(name)
        if model is None:
            request = (f"Specific({name}, {version})" if version is not None
                       else f"Latest({name})")
            raise not_found(f"Servable not found for request: {request}")
        return model

    def model_for_status(self, name: str) -> ServedModel:
        model = self._models.get(name)
        if model is None:
            raise not_found(f"Could not find any versions of model {name}")
        return model

    def names(self) -> List[str]:
        return sorted(self._models)

    def poll_once(self) -> None:
        with self._poll_lock:
            entries = {entry.name: entry for entry in
                       self._source.current().model_config_list.config}
            models = dict(self._models)
            for name in [n for n in models if n not in entries]:
                models.pop(name).unload_all()
                log.info("Model %s left the config: unloaded", name)
            for name, entry in entries.items():
                model = models.get(name)
                if model is None or model.base_path != entry.base_path:
                    model = ServedModel(name, entry.base_path, self._load)
                    models[name] = model
                self._models = models   # visible before a slow first load
                model.reconcile(entry.model_version_policy
                                if entry.HasField("model_version_policy")
                                else None, dict(entry.version_labels))

    def readiness(self) -> Optional[str]:
        """None when every configured model has a version AVAILABLE (it can
        answer predictions); otherwise why not."""
        if not self._models:
            return "no model is configured yet"
        for name, model in sorted(self._models.items()):
            states = model.states()
            if not any(s.state == "AVAILABLE" for s in states.values()):
                detail = "; ".join(
                    f"version {v} {s.state}"
                    + (f" ({s.error_code}: {s.error_message})"
                       if s.error_code != "OK" else "")
                    for v, s in sorted(states.items(), reverse=True))
                return (f"model {name} has no version AVAILABLE"
                        + (f": {detail}" if detail else
                           f": no version folder under {model.base_path}"))
        return None

    def _refused_everything(self) -> Optional[str]:
        """Versions were there to load and every one was refused: like TF
        Serving, do not open a port that can only answer 404."""
        for model in self._models.values():
            states = model.states().values()
            if states and all(s.state == "END" and s.error_code != "OK"
                              for s in states):
                return self.readiness()
        return None

    def start(self, poll_seconds: float) -> None:
        """Load what is configured now, then keep polling in the background.
        Raises StartupRefused when the config is unusable or every version
        on disk was refused. Called again (the app's lifespan after the
        CLI's early start), it does nothing."""
        with self._start_lock:
            if self._thread is not None:
                return
            self.poll_once()
            refused = self._refused_everything()
            if refused:
                raise StartupRefused(refused)
            self._start_polling(poll_seconds)

    def _start_polling(self, poll_seconds: float) -> None:
        self._thread = threading.Thread(target=self._poll_forever,
                                        args=(poll_seconds,),
                                        name="model-poller", daemon=True)
        self._thread.start()

    def _poll_forever(self, poll_seconds: float) -> None:
        while not self._stop.wait(poll_seconds):
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must survive
                log.exception("Polling the model config failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
