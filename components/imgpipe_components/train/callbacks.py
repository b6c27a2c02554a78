"""Keras callbacks of the Trainer: throughput, a time budget, and the
holdout accuracy that early stopping selects on."""
from __future__ import annotations

import time

import tensorflow as tf


class ImagesPerSecond(tf.keras.callbacks.Callback):
    """Per epoch: images per second, seconds, and seconds since training
    began (validation included), so a benchmark can read the time each
    epoch's accuracy was reached from history.json."""

    def __init__(self, images_per_epoch: int, clock=time.perf_counter):
        super().__init__()
        self._images, self._clock = images_per_epoch, clock

    def on_train_begin(self, logs=None):
        self._train_started = self._clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._started = self._clock()

    def on_epoch_end(self, epoch, logs=None):
        now = self._clock()
        logs["images_per_second"] = self._images / (now - self._started)
        logs["epoch_seconds"] = now - self._started
        logs["elapsed_seconds"] = now - self._train_started


class TimeBudget(tf.keras.callbacks.Callback):
    """Stops training at the first batch that ends past `seconds` of fit
    time. Checked per batch, not per epoch: on a large data set one epoch
    can be a large part of the budget. The epoch it stops in is still
    validated, so its accuracy is in the history."""

    def __init__(self, seconds: float, clock=time.perf_counter):
        super().__init__()
        self.seconds, self._clock = seconds, clock
        self.stopped_in_epoch = 0          # 1-based; 0 = budget not reached

    def on_train_begin(self, logs=None):
        self._started = self._clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (not self.stopped_in_epoch
                and self._clock() - self._started >= self.seconds):
            self.stopped_in_epoch = self._epoch + 1
            self.model.stop_training = True

    def summary(self) -> dict:
        return {"time_budget_s": self.seconds,
                "stopped_by_time_budget": bool(self.stopped_in_epoch),
                "stopped_in_epoch": self.stopped_in_epoch}


class HoldoutAccuracy(tf.keras.callbacks.Callback):
    """Scores the holdout slice of the train split after each epoch, as
    `holdout_accuracy`/`holdout_loss` in the logs; placed before
    EarlyStopping, which then selects on it instead of the eval split."""

    def __init__(self, holdout: tf.data.Dataset):
        super().__init__()
        self._holdout = holdout

    def on_epoch_end(self, epoch, logs=None):
        loss, accuracy = self.model.evaluate(self._holdout, verbose=0)
        logs["holdout_loss"], logs["holdout_accuracy"] = loss, accuracy


def early_stopping(patience: int) -> tf.keras.callbacks.EarlyStopping:
    return tf.keras.callbacks.EarlyStopping(
        monitor="holdout_accuracy", mode="max", patience=patience,
        restore_best_weights=True)
