"""What a listening session comes to: the artists proposed, the votes on each, favourites, new likes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from db.rows import Privacy
from db.sessions import PickRow, SessionRow, SessionSummary, VoteRow
from recommender.catalogue import Artist


@dataclass(frozen=True)
class ArtistVotes:
    artist: Artist
    into_it: int
    not_for_me: int


@dataclass(frozen=True)
class MemberLikes:
    user_id: int
    #: None: the member's privacy is private, so their new likes are not shown.
    liked: tuple[Artist, ...] | None


@dataclass(frozen=True)
class Recap:
    session: SessionRow
    proposed: tuple[ArtistVotes, ...]
    #: The artists most members were into (at least one), most first.
    favourites: tuple[Artist, ...]
    new_likes: tuple[MemberLikes, ...]


@dataclass(frozen=True)
class HistoryPage:
    sessions: tuple[SessionSummary, ...]
    page: int
    pages: int


def build_recap(
    session: SessionRow,
    picks: Sequence[PickRow],
    votes: Sequence[VoteRow],
    *,
    members: Sequence[int],
    privacies: Mapping[int, Privacy],
    artist: Mapping[int, Artist],
) -> Recap:
    """The recap from the store's rows; `artist` names the ids (picks of artists since deleted are left out)."""
    counts: dict[int, list[int]] = {p.id: [0, 0] for p in picks}
    liked: dict[int, list[Artist]] = {u: [] for u in members}
    by_pick = {p.id: p for p in picks}
    for vote in votes:
        if vote.pick_id not in counts:
            continue
        counts[vote.pick_id][0 if vote.into_it else 1] += 1
        pick_artist = artist.get(by_pick[vote.pick_id].artist_id)
        if vote.into_it and pick_artist is not None:
            liked.setdefault(vote.user_id, []).append(pick_artist)
    proposed = tuple(ArtistVotes(artist[p.artist_id], *counts[p.id]) for p in picks if p.artist_id in artist)
    best = max((a.into_it for a in proposed), default=0)
    favourites = tuple(a.artist for a in proposed if best and a.into_it == best)
    new_likes = tuple(
        MemberLikes(u, None if privacies.get(u) == "private" else tuple(found)) for u, found in liked.items()
    )
    return Recap(session, proposed, favourites, new_likes)
