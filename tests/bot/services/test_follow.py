"""Following a trainer: bot processes serve the snapshots another process (`encore train`) publishes.

Each test runs two model services over one store, as two processes would: a trainer with its own
snapshot folder that refits and publishes, and a follower that only picks up what was published.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import scipy.sparse as sp

from bot.services.models import KEEP_SNAPSHOTS, ModelService
from recommender.merge import member_key
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import snapshot_paths
from recommender.training import ImplicitTrainer
from tests.helpers.services import FAST, Services


def radiohead(services: Services) -> int:
    artist = services.data.catalogue.lookup("Radiohead")
    assert artist is not None
    return artist.artist_id


async def train_with_a_member(trainer: ModelService, member: int, artist_id: int) -> str:
    assert await trainer.store.likes.like(member, artist_id)
    assert await trainer.refit() is not None, trainer.last_error
    assert trainer.state is not None
    return trainer.state.snapshot.version


def test_a_follower_serves_the_published_snapshot_once_and_only_when_newer(served: Services, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served.service(snapshot_dir=tmp_path / "trainer") as trainer, served.service() as follower:
            served.seed_base_snapshot()
            before = (await follower.start()).snapshot.version
            assert not await follower.pick_up_published(), "nothing is published yet"

            version = await train_with_a_member(trainer, 501, radiohead(served))
            assert version > before
            assert await follower.pick_up_published()
            assert follower.state is not None and follower.state.snapshot.version == version
            # The follower now serves the trainer's matrix, which holds the member's like.
            interactions = follower.engine.interactions
            assert member_key(501) in set(interactions.user_keys.astype(str).tolist())
            assert follower.state.snapshot.meta["trainer"] == "implicit"
            assert not await follower.pick_up_published(), "the same snapshot is not loaded twice"
            assert follower.last_timings is None, "a follower never fits"

    served.run(scenario)


def test_a_follower_looks_in_its_own_snapshot_folder_first(served: Services, tmp_path: Path) -> None:
    """The shared folder may be mounted at another path on the bot's machine than on the trainer's."""

    async def scenario() -> None:
        async with served.service(snapshot_dir=tmp_path / "trainer") as trainer, served.service() as follower:
            served.seed_base_snapshot()
            await follower.start()
            version = await train_with_a_member(trainer, 502, radiohead(served))
            shutil.move(tmp_path / "trainer" / version, served.snapshot_dir / version)  # recorded path now gone
            assert await follower.pick_up_published()
            assert follower.state is not None and follower.state.snapshot.path == served.snapshot_dir / version

    served.run(scenario)


def test_a_missing_or_foreign_published_snapshot_is_skipped_with_one_warning(
    served: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with served.service(snapshot_dir=tmp_path / "trainer") as trainer, served.service() as follower:
            served.seed_base_snapshot()
            serving = (await follower.start()).snapshot.version
            version = await train_with_a_member(trainer, 503, radiohead(served))
            shutil.rmtree(tmp_path / "trainer" / version)
            with caplog.at_level(logging.WARNING, logger="bot.services.models"):
                assert not await follower.pick_up_published()
                assert not await follower.pick_up_published()
            warnings = [r for r in caplog.records if "not serving the published snapshot" in r.getMessage()]
            assert len(warnings) == 1 and version in warnings[0].getMessage()
            assert follower.state is not None and follower.state.snapshot.version == serving

            follower._follower.data_fingerprint = "other-data"  # as if this process loaded other data
            await train_with_a_member(trainer, 504, radiohead(served))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="bot.services.models"):
                assert not await follower.pick_up_published()
            assert "other Last.fm data" in caplog.text
            assert follower.state.snapshot.version == serving

    served.run(scenario)


def test_a_follower_starts_from_the_published_snapshot_without_fitting(
    served: Services, tmp_path: Path, forbid_fitting: list[int]
) -> None:
    async def scenario() -> None:
        async with served.service(snapshot_dir=tmp_path / "trainer") as trainer:
            shutil.copytree(
                served.seed_base_snapshot("20300101T000000000000Z"), tmp_path / "trainer" / "20300101T000000000000Z"
            )
            state = await trainer.start()
            await trainer.publish(state.snapshot)
        empty = tmp_path / "bot-snapshots"
        async with served.service(snapshot_dir=empty) as follower:
            state = await follower.start(published_first=True)
            assert state.snapshot.version == "20300101T000000000000Z"
            assert state.snapshot.path == tmp_path / "trainer" / "20300101T000000000000Z"

    served.run(scenario)
    assert forbid_fitting == []


class CountingTrainer:
    """A trainer that cannot warm-start (like Spark's): every refit must start cold."""

    name = "counting"
    warm_starts = False

    def __init__(self, config: ALSConfig) -> None:
        self.config = config
        self.calls: list[tuple[bool, int | None]] = []

    def fit(self, plays: sp.csr_matrix, initial=None, iterations: int | None = None) -> ALSRecommender:
        self.calls.append((initial is not None, iterations))
        return ImplicitTrainer(self.config).fit(plays, iterations=iterations)


def test_the_trainer_is_pluggable_and_named_in_the_snapshot_and_its_row(served: Services) -> None:
    counting = CountingTrainer(FAST)

    async def scenario() -> None:
        async with served.service(trainer=counting) as service:
            await service.start()
            await service.store.likes.like(505, radiohead(served))
            assert await service.refit() is not None
            assert service.state is not None and service.state.snapshot.meta["trainer"] == "counting"
            rows = await service.store.snapshots.recent(limit=1)
            assert rows[0].metrics["trainer"] == "counting"
            assert rows[0].metrics["data_fingerprint"] == served.data.fingerprint

    served.run(scenario)
    assert counting.calls == [(False, FAST.iterations), (False, FAST.iterations)], "no warm start for this trainer"


def test_old_snapshots_are_removed_after_a_refit_keeping_the_newest(served: Services) -> None:
    for day in range(1, 9):
        served.seed_base_snapshot(f"200001{day:02d}T000000000000Z")

    async def scenario() -> str:
        async with served.service() as service:
            await service.start()
            await service.store.likes.like(506, radiohead(served))
            assert await service.refit() is not None
            assert service.state is not None
            return service.state.snapshot.version

    newest = served.run(scenario)
    kept = snapshot_paths(served.snapshot_dir)
    assert len(kept) == KEEP_SNAPSHOTS and kept[0].name == newest
    assert [p.name for p in kept[1:]] == [f"200001{day:02d}T000000000000Z" for day in range(8, 4, -1)]
