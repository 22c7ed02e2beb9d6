"""The model service, in parts: serving (serving.py), refitting (refitting.py), publishing
(publishing.py), following a trainer (following.py), forgetting a member at once (forgetting.py), the
serving catalogue (catalogue.py), and the `ModelService` front that bot/app.py builds (service.py)."""

from bot.services.models.refitting import COLD_EVERY, KEEP_SNAPSHOTS, WARM_ITERATIONS, RefitTimings
from bot.services.models.service import ModelService
from bot.services.models.serving import STALE_STAGING_SECONDS, ServingState, remove_stale_staging

__all__ = [
    "COLD_EVERY",
    "KEEP_SNAPSHOTS",
    "STALE_STAGING_SECONDS",
    "WARM_ITERATIONS",
    "ModelService",
    "RefitTimings",
    "ServingState",
    "remove_stale_staging",
]
