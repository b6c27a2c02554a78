"""The PipelineConfig of `imgpipe run`, from its options, its --config file,
the chooser and the built-in defaults, in that order of precedence.

The file is the one `imgpipe kubeflow compile --config` reads
(imgpipe.settings_file). An option counts as given only when it is on the
command line (click's parameter source), so an option's shown default never
overrides the file. The chooser picks what neither sets, from the data and
this machine, and says why for each setting.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

from imgpipe.cli.console import console, fail
from imgpipe.config import PipelineConfig, model_name_for

# Options that only set a field of one section: option name -> (section,
# field); the chooser's own settings are handled by `chosen`.
SECTION_OPTIONS = {
    "rebalance_to": ("augment", "rebalance_to"),
    "seed": ("train", "seed"),
    "ensemble": ("train", "ensemble"),
    "online_augmentation": ("train", "online_augmentation"),
    "early_stopping": ("train", "early_stopping_patience"),
    "pretrain_epochs": ("train", "pretrain_epochs"),
    "min_accuracy": ("evaluation", "min_accuracy"),
    "max_accuracy_drop": ("evaluation", "max_accuracy_drop"),
    "span_pattern": ("ingest", "span_pattern"),
    "edge_export": ("edge", "enabled"),
    "auto_promote": ("push", "auto_promote"),
}
CHOSEN = ("image_size", "channels", "copies", "architecture", "epochs",
          "batch_size")


def given_options(context) -> set:
    """Names of the command's options (`context`: its click Context) given
    on the command line or by an environment variable, not left at their
    defaults. By the source's name: Typer carries its own copy of click,
    whose enum is not click's."""
    given = set()
    for name in context.params:
        source = context.get_parameter_source(name)
        if getattr(source, "name", None) in ("COMMANDLINE", "ENVIRONMENT"):
            given.add(name)
    return given


def base_config(config_file: Optional[Path], options: Dict[str, object],
                given: set):
    """The file's settings (or the defaults) with every option given on
    the command line, and the parsed file (None without --config)."""
    from imgpipe import settings_file
    from imgpipe_components.settings_codec import SettingsError

    try:
        parsed = settings_file.read(config_file) if config_file else None
        config = parsed.pipeline if parsed else PipelineConfig()
        changes: Dict[str, Dict[str, object]] = {}
        for option, (section, field) in SECTION_OPTIONS.items():
            if option in given:
                changes.setdefault(section, {})[field] = options[option]
        config = dataclasses.replace(config, **{
            section: dataclasses.replace(getattr(config, section), **fields)
            for section, fields in changes.items()})
        if "no_cache" in given:
            config = dataclasses.replace(config, enable_cache=False)
    except SettingsError as error:
        fail(str(error), 2)
    return config, parsed


def model_name(option: Optional[str], parsed, data: Path) -> str:
    """--model-name, else the file's, else the data folder's name made
    safe for TF Serving."""
    if option:
        return option
    if parsed is not None and parsed.sets("", "model_name"):
        return parsed.pipeline.model_name
    return model_name_for(os.path.abspath(data))


def chosen(data: Path, counts: dict, config: PipelineConfig, parsed,
           train_budget: Optional[str], explicit: Dict[str, object]
           ) -> Tuple[object, float]:
    """The chooser's settings (options, then the file, win), printed with
    their reasons; and the time budget in seconds (0 = none)."""
    from imgpipe import auto_settings, data_profile
    from imgpipe.runners.local.preflight import data_folder
    from imgpipe_components.image_example_gen.image_records import \
        IMAGE_EXTENSIONS

    explicit = {name: value for name, value in explicit.items()
                if value is not None}
    budget_s = 0.0
    if train_budget is not None:
        try:
            budget_epochs, budget_s = auto_settings.parse_budget(train_budget)
        except ValueError as error:
            fail(str(error), 2)
        if budget_epochs and explicit.get("epochs", budget_epochs) != \
                budget_epochs:
            fail(f"--epochs {explicit['epochs']} and --train-budget "
                 f"{train_budget} disagree: give one of them.", 2)
        if budget_epochs:
            explicit["epochs"] = budget_epochs
    given = {**(parsed.chosen_settings() if parsed else {}), **explicit,
             "transfer_weights": config.train.transfer_weights}
    profile = (data_profile.profile_folder(
        data_folder(data, config.ingest), counts, tuple(IMAGE_EXTENSIONS))
        if counts else None)
    choice = auto_settings.choose(
        profile, data_profile.detect_hardware(), given,
        given_where=("set by option or --config" if parsed
                     else "set on the command line"))
    console.print("Settings (from the data and this machine; any option "
                  "overrides):")
    for reason in choice.reasons:
        console.print(f"  {reason}", soft_wrap=True)
    if budget_s:
        console.print(f"  train budget = {budget_s:.0f} s: set on the "
                      "command line")
    train = config.train
    if train.ensemble > 1 or train.ensemble_architectures:
        members = train.ensemble_architectures or (
            choice.architecture,) * train.ensemble
        console.print(f"  ensemble = {len(members)} members ("
                      f"{', '.join(members)}), seeds {train.seed} to "
                      f"{train.seed + len(members) - 1}: set by option or "
                      "--config", soft_wrap=True)
    return choice, budget_s
