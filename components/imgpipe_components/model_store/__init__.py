"""Promotion of pushed versions: canary -> stable, rollback, history.

State lives in TF Serving's own models.config beside the model folders
(see `models_config`), on a local disk or in a gs:// bucket (`store`);
every change is appended to promotion_history.jsonl.
Nothing here imports TensorFlow: `imgpipe promote/rollback/history` start
at once.
"""
from imgpipe_components.model_store.actions import (PromotionError, PromotionResult,
                                        auto_promote, current_labels, promote,
                                        register_pushed_version, rollback,
                                        show_history)
from imgpipe_components.model_store.models_config import ConfigError

__all__ = ["ConfigError", "PromotionError", "PromotionResult", "auto_promote",
           "current_labels", "promote", "register_pushed_version", "rollback",
           "show_history"]
