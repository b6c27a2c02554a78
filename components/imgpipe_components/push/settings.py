"""Settings of the Pusher: what happens to a version once it is pushed."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class PushConfig:
    # Move the canary to stable right after the push when the promotion
    # policy allows (never by force). Off by default: production promotion
    # is a person's decision unless a team opts in.
    auto_promote: bool = False
