"""`encore recommend` (for a Last.fm user, a likes list, or a batch of them) and `encore similar`.

They serve the newest snapshot for this data as it is, without the store; only when there is none
yet do they open the app and run the bot's refit once, as `encore fit` does."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.app import build_app
from bot.cli.errors import UserFacingError
from bot.cli.opening import load_data, opened_app, refit_now
from bot.cli.output import (
    no_match_line,
    print_recommendations,
    print_similar,
    recommendation_json,
    say,
    similar_json,
)
from bot.services.library import match_names, parse_liked_names
from bot.settings import Settings
from recommender.engine import Engine, EngineError
from recommender.interactions import lastfm_user_key
from recommender.snapshot import Snapshot, SnapshotError, load_snapshot, snapshot_paths
from recommender.text import clean_user_text
from recommender.training import LastFmData


def load_engine(settings: Settings) -> Engine:
    """The newest snapshot for this data; fits one first if there is none yet."""
    data = load_data(settings)
    snapshot = _newest_snapshot(settings, data)
    if snapshot is not None:
        return Engine(snapshot.model, snapshot.interactions, data.catalogue.extended(snapshot.member_artists))
    say(f"encore: fitting the model (a few seconds); the snapshot goes to {settings.snapshot_dir}")
    return asyncio.run(_fitted_engine(settings, data))


def _newest_snapshot(settings: Settings, data: LastFmData) -> Snapshot | None:
    paths = snapshot_paths(settings.snapshot_dir)
    if not paths:
        return None
    try:
        snapshot = load_snapshot(paths[0])
    except SnapshotError as error:
        raise UserFacingError(f"{error}; run `encore fit` to write a fresh snapshot") from None
    if snapshot.meta.get("data_fingerprint") != data.fingerprint:
        say("encore: the Last.fm data changed since the last fit; fitting again")
        return None
    return snapshot


async def _fitted_engine(settings: Settings, data: LastFmData) -> Engine:
    async with opened_app(settings, build_app(settings, data=data, start=False)) as app:
        await refit_now(app)
        return app.models.engine


# -- recommend ------------------------------------------------------------------------------------


def recommend(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        return recommend_batch(args, settings)
    engine = load_engine(settings)
    try:
        if args.lastfm_user is not None:
            key = lastfm_user_key(args.lastfm_user)
            if engine.interactions.user_row(key) is None:
                raise UserFacingError(
                    f"unknown Last.fm user {args.lastfm_user}; the data set has users 2 to 2100 with gaps"
                )
            results = engine.recommend_for_user(key, args.n, listeners=engine.listener_blend())
            title = f"Recommendations for Last.fm user {args.lastfm_user}"
        else:
            if not clean_user_text(args.likes).strip(" ,"):
                raise UserFacingError('--likes is empty; give artist names, e.g. --likes "Radiohead, Björk"')
            artists, unknown = parse_liked_names(args.likes, engine.catalogue)
            for no_match in unknown:
                say(f"encore: {no_match_line(no_match)}")
            if not artists:
                raise UserFacingError("none of those names is an artist Encore knows; nothing to recommend from")
            results = engine.recommend_for_likes([a.artist_id for a in artists], args.n)
            title = "Recommendations for someone who likes " + ", ".join(a.name for a in artists)
    except EngineError as error:
        raise UserFacingError(str(error)) from None
    if args.json:
        print(json.dumps({"recommendations": [recommendation_json(r) for r in results]}, ensure_ascii=False))
    else:
        print_recommendations(title, results, sys.stdout)
    return 0


def recommend_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line out per line in; a bad line is reported on its own line, never fatal."""
    try:
        handle = sys.stdin if str(args.batch) == "-" else open(args.batch, encoding="utf-8")
    except OSError as error:
        raise UserFacingError(f"cannot read {args.batch}: {error.strerror}") from None
    engine = load_engine(settings)
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            print(json.dumps(batch_line(line, number, engine, args.n), ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 0


def batch_line(line: str, number: int, engine: Engine, n: int) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"line": number, "error": f"not valid JSON ({error.msg})"}
    if not isinstance(request, dict) or not isinstance(request.get("likes"), list):
        return {
            "line": number,
            "id": request.get("id") if isinstance(request, dict) else None,
            "error": 'expected an object with a "likes" list of artist names',
        }
    artists, unknown = match_names([x for x in request["likes"] if isinstance(x, str)], engine.catalogue)
    out: dict[str, Any] = {"id": request.get("id")}
    if unknown:
        out["unknown"] = [no_match.query for no_match in unknown]
    if not artists:
        out["recommendations"] = []
        out["error"] = "no known artist in likes"
        return out
    try:
        results = engine.recommend_for_likes([a.artist_id for a in artists], n)
    except EngineError as error:
        return out | {"recommendations": [], "error": str(error)}
    out["recommendations"] = [recommendation_json(r) for r in results]
    return out


# -- similar --------------------------------------------------------------------------------------


def similar(args: argparse.Namespace, settings: Settings) -> int:
    engine = load_engine(settings)
    artists, unknown = match_names([args.artist], engine.catalogue)
    if unknown:
        raise UserFacingError(no_match_line(unknown[0]))
    if not artists:
        raise UserFacingError("give an artist name")
    artist = artists[0]
    try:
        results = engine.similar(artist.artist_id, args.n)
    except EngineError as error:
        raise UserFacingError(str(error)) from None
    if args.json:
        print(json.dumps(similar_json(artist, results), ensure_ascii=False))
    else:
        print_similar(artist, results, sys.stdout)
    return 0
