"""Finding the data set (`resolve_data_dir`): an explicit folder, the environment variable, the cached copy,
and the download from a local HTTP server, with each failure's one-line remedy."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recommender import download
from recommender.datasets import DATASET_DIRNAME, ENV_VAR, REQUIRED_FILES, DataError, load_hetrec, resolve_data_dir
from tests.helpers.hetrec import write_hetrec

Served = tuple[Path, str]


# --- resolve_data_dir and the download -----------------------------------------------------


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[Served]:
    """A local HTTP server over a temporary folder: (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _zip_dataset(source: Path, archive: Path, *, folder: str | None) -> None:
    with zipfile.ZipFile(archive, "w") as zf:
        for name in REQUIRED_FILES:
            zf.write(source / name, f"{folder}/{name}" if folder else name)
        zf.writestr(f"{folder}/readme.txt" if folder else "readme.txt", "tiny test data\n")


def test_explicit_directory_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write_hetrec(tmp_path / "explicit")
    monkeypatch.setenv(ENV_VAR, str(write_hetrec(tmp_path / "env")))
    assert resolve_data_dir(explicit, cache_dir=tmp_path / "cache") == explicit


def test_explicit_directory_without_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not hold") as info:
        resolve_data_dir(tmp_path / "nowhere", url="http://127.0.0.1:9/x.zip")
    assert str(tmp_path / "nowhere") in str(info.value)


def test_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = write_hetrec(tmp_path / "env")
    monkeypatch.setenv(ENV_VAR, str(env_dir))
    assert resolve_data_dir(cache_dir=tmp_path / "cache") == env_dir


def test_environment_variable_without_user_artists_fails_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(ENV_VAR, str(empty))
    with pytest.raises(DataError) as info:
        resolve_data_dir(cache_dir=tmp_path / "cache", url="http://127.0.0.1:9/x.zip")
    message = str(info.value)
    assert str(empty) in message and ENV_VAR in message and "user_artists.dat" in message
    assert "could not download" not in message
    assert not (tmp_path / "cache").exists()


def test_cached_copy_is_used_without_downloading(tmp_path: Path, no_env: None) -> None:
    cached = write_hetrec(tmp_path / "cache" / DATASET_DIRNAME)
    assert resolve_data_dir(cache_dir=tmp_path / "cache", url="http://127.0.0.1:9/x.zip") == cached


def test_no_download_when_disallowed(tmp_path: Path, no_env: None) -> None:
    with pytest.raises(DataError, match=ENV_VAR):
        resolve_data_dir(cache_dir=tmp_path / "cache", download=False)
    assert not (tmp_path / "cache" / DATASET_DIRNAME).exists()


@pytest.mark.parametrize("folder", [DATASET_DIRNAME, None], ids=["nested", "flat"])
def test_download_from_a_local_server(
    tmp_path: Path,
    http_root: Served,
    no_env: None,
    monkeypatch: pytest.MonkeyPatch,
    folder: str | None,
) -> None:
    root, base_url = http_root
    _zip_dataset(write_hetrec(tmp_path / "src"), root / "lastfm.zip", folder=folder)
    # Repoint the module constant, as a mirror would, instead of passing url=.
    monkeypatch.setattr(download, "HETREC_ZIP_URL", f"{base_url}/lastfm.zip")
    cache = tmp_path / "cache"

    directory = resolve_data_dir(cache_dir=cache)

    assert directory == cache / DATASET_DIRNAME
    assert load_hetrec(directory).plays["plays"].tolist() == [100, 5, 7, 1]
    # Temporary archive and extraction folders are gone; only the data set remains.
    assert [p.name for p in cache.iterdir()] == [DATASET_DIRNAME]
    # A second call finds the cached copy, even with the server unreachable.
    monkeypatch.setattr(download, "HETREC_ZIP_URL", "http://127.0.0.1:9/gone.zip")
    assert resolve_data_dir(cache_dir=cache) == directory


def test_download_replaces_a_broken_earlier_attempt(tmp_path: Path, http_root: Served, no_env: None) -> None:
    root, base_url = http_root
    _zip_dataset(write_hetrec(tmp_path / "src"), root / "lastfm.zip", folder=None)
    broken = tmp_path / "cache" / DATASET_DIRNAME
    broken.mkdir(parents=True)
    (broken / "artists.dat").write_text("half\n")
    directory = resolve_data_dir(cache_dir=tmp_path / "cache", url=f"{base_url}/lastfm.zip")
    assert (directory / "user_artists.dat").is_file()
    assert load_hetrec(directory).artists["name"].iloc[0] == "Alpha"


def test_offline_download_gives_a_one_line_remedy(tmp_path: Path, no_env: None) -> None:
    url = "http://127.0.0.1:9/hetrec2011-lastfm-2k.zip"
    with pytest.raises(DataError) as info:
        resolve_data_dir(cache_dir=tmp_path / "cache", url=url)
    message = str(info.value)
    assert message.startswith("could not download the Last.fm data set from GroupLens (")
    assert "refused" in message.lower()
    assert f"download it by hand from {url}, unzip it and set {ENV_VAR} to the folder" in message
    assert "\n" not in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_file_on_the_server(tmp_path: Path, http_root: Served, no_env: None) -> None:
    _, base_url = http_root
    with pytest.raises(DataError, match="HTTP 404"):
        resolve_data_dir(cache_dir=tmp_path / "cache", url=f"{base_url}/missing.zip")


def test_corrupt_archive(tmp_path: Path, http_root: Served, no_env: None) -> None:
    root, base_url = http_root
    (root / "bad.zip").write_bytes(b"this is not a zip archive")
    with pytest.raises(DataError, match="not a valid zip"):
        resolve_data_dir(cache_dir=tmp_path / "cache", url=f"{base_url}/bad.zip")
    assert not (tmp_path / "cache" / DATASET_DIRNAME).exists()


def test_archive_without_the_data_set(tmp_path: Path, http_root: Served, no_env: None) -> None:
    root, base_url = http_root
    with zipfile.ZipFile(root / "other.zip", "w") as zf:
        zf.writestr("something/else.txt", "hello")
    with pytest.raises(DataError, match="does not contain user_artists.dat"):
        resolve_data_dir(cache_dir=tmp_path / "cache", url=f"{base_url}/other.zip")
