"""Training-time measurements, shared by the trainer and the benchmark harness."""

from __future__ import annotations

import time

import keras


class TrainingTimer(keras.callbacks.Callback):
    """Record when training steps run, with `time.perf_counter` seconds.

    Attributes:
        started: Reference time of `time_to_first_step`, such as the start
            of the run before data loading; None uses the first
            `on_train_begin`.
        first_step_begin: Time of the first training batch's start.
        first_step_end: Time of the first training batch's end, taken when
            the second batch starts (or the first validation or epoch end
            comes), because Keras 3 runs batch-end hooks synchronously
            whenever a callback defines `on_train_batch_end`. The first
            step includes tracing the training function. With Keras's
            `steps_per_execution` at N, batch hooks run once per call of
            the training function, so the "first step" is its first N steps.
        last_epoch_end: Time of the last `on_epoch_end`.
        train_seconds: Per epoch, the seconds from the epoch's start to the
            start of its validation (or its end without validation).
        epoch_seconds: Per epoch, the seconds from its start to its end,
            validation and the callbacks before this one included.
    """

    def __init__(self, started: float | None = None):
        super().__init__()
        self.started = started
        self.first_step_begin: float | None = None
        self.first_step_end: float | None = None
        self.last_epoch_end: float | None = None
        self.train_seconds: list[float] = []
        self.epoch_seconds: list[float] = []
        self._epoch_start = 0.0
        self._in_training_part = False

    def on_train_begin(self, logs=None):
        if self.started is None:
            self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._in_training_part = True

    def on_train_batch_begin(self, batch, logs=None):
        now = time.perf_counter()
        if self.first_step_begin is None:
            self.first_step_begin = now
        elif self.first_step_end is None:
            self.first_step_end = now

    def on_test_begin(self, logs=None):
        self._close_first_step()
        self._close_training_part()

    def on_epoch_end(self, epoch, logs=None):
        self._close_first_step()
        self._close_training_part()
        self.last_epoch_end = time.perf_counter()
        self.epoch_seconds.append(self.last_epoch_end - self._epoch_start)

    def _close_first_step(self):
        if self.first_step_begin is not None and self.first_step_end is None:
            self.first_step_end = time.perf_counter()

    def _close_training_part(self):
        if self._in_training_part:
            self.train_seconds.append(time.perf_counter() - self._epoch_start)
            self._in_training_part = False

    def samples_per_second(self, samples_per_epoch: int) -> float | None:
        """Return steady-state training throughput: the first epoch (tracing) is left out when
        there is a later one, and validation is never counted."""
        seconds = self.train_seconds[1:] or self.train_seconds
        if not seconds:
            return None
        return round(samples_per_epoch * len(seconds) / sum(seconds), 1)

    def time_to_first_step(self) -> float | None:
        """Return the seconds from `started` to the end of the first training step."""
        if self.started is None or self.first_step_end is None:
            return None
        return round(self.first_step_end - self.started, 3)

    def training_time(self) -> float | None:
        """Return the seconds from the first training step's start to the last epoch's end.

        Validation at the end of each epoch and the epoch-end callbacks before
        this one are inside that time.
        """
        if self.first_step_begin is None or self.last_epoch_end is None:
            return None
        return round(self.last_epoch_end - self.first_step_begin, 3)
