"""Settings of the Pusher: what happens to a version once it is pushed."""
from __future__ import annotations

import dataclasses

from imgpipe_components.settings_codec import check


@dataclasses.dataclass(frozen=True)
class PushConfig:
    # Move the canary to stable right after the push when the promotion
    # policy allows (never by force). Off by default: production promotion
    # is a person's decision unless a team opts in.
    auto_promote: bool = False
    # Seconds between loading a new version and moving `canary` onto it
    # (model_store.actions: a running TF Serving refuses a label on a version
    # it has not loaded). At least TF Serving's
    # --model_config_file_poll_wait_seconds plus a margin when TF Serving
    # polls the store (infra/kubeflow/*.yaml); 0: one write, for the local
    # stand-in, which holds such a label back itself.
    label_settle_s: int = 0

    def __post_init__(self) -> None:
        check(self.label_settle_s >= 0, "push.label_settle_s",
              self.label_settle_s, ">= 0")
