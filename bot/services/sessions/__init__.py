"""Listening sessions: a voice channel's members get one artist at a time, vote on it, and get the next.

`SessionService` keeps everything in the store (`store.sessions`), so a session goes on after a restart;
the picks come from `recommender.sessions.next_pick` over the group's tastes as they are in the store.
"""

from bot.services.sessions.recap import HistoryPage, MemberLikes, Recap
from bot.services.sessions.service import (
    IDLE_MINUTES,
    NotInGroup,
    SessionError,
    SessionOpen,
    SessionService,
    SessionState,
    Started,
)

__all__ = [
    "IDLE_MINUTES",
    "HistoryPage",
    "MemberLikes",
    "NotInGroup",
    "Recap",
    "SessionError",
    "SessionOpen",
    "SessionService",
    "SessionState",
    "Started",
]
