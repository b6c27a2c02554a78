"""Settings of the Trainer (and the optional Tuner) module."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.settings_codec import check

ARCHITECTURES = ("residual_cnn", "small_cnn", "transfer", "vit")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The model and the regime; travels to the Trainer as one JSON string."""
    # The default: the only one that matches SVC(gamma=0.001) on the digits
    # (benchmarks/results/quality.md); small_cnn is the classic baseline.
    architecture: str = "residual_cnn"  # residual_cnn | small_cnn | transfer | vit
    # An ensemble of `ensemble` members trained one after the other, exported
    # as one model averaging their probabilities (1 = a single model). The
    # members are `ensemble_architectures` when listed (one per member; then
    # `ensemble` may stay 1), else `architecture` each time; member i trains
    # with seed `seed + i`.
    ensemble: int = 1
    ensemble_architectures: Tuple[str, ...] = ()
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"        # cosine | constant
    dropout: float = 0.0
    l2: float = 0.0
    # Early stopping selects on a hash-chosen slice of the train split
    # (`holdout_fraction` of it, held out of training), never on the eval
    # split, whose accuracy must stay an unbiased estimate.
    early_stopping_patience: int = 0   # epochs without holdout gain; 0 = off
    holdout_fraction: float = 0.1      # used only when early stopping is on
    # Wall-clock budget of model.fit in seconds (0 = none): training stops
    # at the first batch past it; history.json records where it stopped.
    # An ensemble splits it evenly: each member gets time_budget_s / ensemble.
    time_budget_s: float = 0.0
    class_weights: bool = False        # weight classes by inverse frequency
    online_augmentation: bool = False  # fresh random augmentation per epoch
    # Transfer learning: a Keras application, weights from a local or gs://
    # .h5/.weights.h5 file; random initialisation when empty.
    transfer_base: str = "MobileNetV2"
    transfer_weights: str = ""
    mixed_precision: bool = True       # on GPU only; CPUs compute in float32
    # Optional KerasTuner search (Tuner component) whose best learning rate,
    # dropout and L2 feed the Trainer.
    tune: bool = False
    tune_algorithm: str = "random"     # random | bayesian
    tune_trials: int = 4
    tune_epochs: int = 3
    seed: int = 42
    # Self-supervised pretraining (docs/pretraining.md): epochs of rotation
    # prediction on the images in <data>/unlabelled/ before training;
    # 0 = off. The Pretrainer's backbone warm-starts the Trainer.
    pretrain_epochs: int = 0

    def __post_init__(self) -> None:
        check(self.architecture in ARCHITECTURES, "train.architecture",
              self.architecture, " | ".join(ARCHITECTURES))
        check(self.ensemble >= 1, "train.ensemble", self.ensemble,
              ">= 1 (1 = a single model)")
        for name in self.ensemble_architectures:
            check(name in ARCHITECTURES, "train.ensemble_architectures",
                  name, "a list of " + " | ".join(ARCHITECTURES))
        listed = len(self.ensemble_architectures)
        check(not listed or self.ensemble in (1, listed), "train.ensemble",
              self.ensemble, f"1 or the number of "
              f"train.ensemble_architectures ({listed})")
        check(self.epochs >= 1, "train.epochs", self.epochs, ">= 1")
        check(self.batch_size >= 1, "train.batch_size", self.batch_size,
              ">= 1")
        check(self.learning_rate > 0, "train.learning_rate",
              self.learning_rate, "> 0")
        check(self.lr_schedule in ("cosine", "constant"), "train.lr_schedule",
              self.lr_schedule, "cosine | constant")
        check(0 <= self.dropout < 1, "train.dropout", self.dropout, "in [0, 1)")
        check(self.l2 >= 0, "train.l2", self.l2, ">= 0")
        check(self.early_stopping_patience >= 0,
              "train.early_stopping_patience", self.early_stopping_patience,
              ">= 0")
        check(0 < self.holdout_fraction <= 0.5, "train.holdout_fraction",
              self.holdout_fraction, "in (0, 0.5]")
        check(self.time_budget_s >= 0, "train.time_budget_s",
              self.time_budget_s, ">= 0 seconds (0 = no budget)")
        check(self.tune_algorithm in ("random", "bayesian"),
              "train.tune_algorithm", self.tune_algorithm, "random | bayesian")
        check(self.tune_trials >= 1 and self.tune_epochs >= 1,
              "train.tune_trials/tune_epochs",
              (self.tune_trials, self.tune_epochs), ">= 1")
        check(self.pretrain_epochs >= 0, "train.pretrain_epochs",
              self.pretrain_epochs, ">= 0 (0 = no pretraining)")

    @property
    def member_architectures(self) -> Tuple[str, ...]:
        """The architecture of each model trained: one for a single model."""
        return tuple(self.ensemble_architectures) or (
            self.architecture,) * self.ensemble
