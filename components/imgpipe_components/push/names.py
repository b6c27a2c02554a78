"""Custom properties the Pusher records on its PushedModel artifact."""
PROMOTED_PROPERTY = "promoted"        # 1: auto-promoted to stable
PROMOTION_PROPERTY = "promotion"      # why it was (not) promoted
