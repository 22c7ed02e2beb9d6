"""Download a zip archive and unpack it into a folder atomically."""

from __future__ import annotations

import http.client
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

__all__ = ["HETREC_ZIP_URL", "DownloadError", "download_and_extract"]

HETREC_ZIP_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"

_CHUNK = 1 << 16


class DownloadError(Exception):
    """The archive could not be fetched or unpacked; ``str(err)`` is the one-line reason."""


def _fetch(url: str, destination: Path, *, timeout: float, description: str) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        received = 0
        # disable=None: the bar shows on a terminal but stays out of logs and test output.
        with (
            destination.open("wb") as out,
            tqdm(
                total=expected,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=description,
                file=sys.stderr,
                disable=None,
            ) as bar,
        ):
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received != expected:
        raise DownloadError(f"incomplete download: got {received} of {expected} bytes")


def _find_root(extracted: Path, marker: str) -> Path:
    # Archives either hold the files at the top or inside one folder; accept both.
    if (extracted / marker).is_file():
        return extracted
    for child in sorted(extracted.iterdir()):
        if child.is_dir() and (child / marker).is_file():
            return child
    raise DownloadError(f"the archive does not contain {marker}")


def _install(source: Path, target: Path, marker: str) -> None:
    """Move the unpacked folder into place so readers never see a half-written one."""
    stale: Path | None = None
    if target.exists():
        # Only reached when the target lacks the marker file, i.e. an earlier attempt broke.
        stale = Path(tempfile.mkdtemp(dir=target.parent, prefix=".stale-"))
        os.replace(target, stale / "old")
    try:
        os.replace(source, target)
    except OSError:
        # Another process may have finished the same download first; its copy is as good.
        if not (target / marker).is_file():
            raise
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)


def download_and_extract(
    url: str,
    target: Path,
    *,
    marker: str,
    timeout: float = 60.0,
    description: str = "download",
) -> Path:
    """Fetch the zip at ``url`` and unpack it to ``target``, which then holds ``marker``.

    The archive goes to a temporary file and a temporary folder beside ``target`` first,
    so an interrupted download never leaves a folder that looks complete.
    Raises DownloadError for network failures, incomplete or corrupt archives.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, archive_name = tempfile.mkstemp(dir=target.parent, prefix=".download-", suffix=".zip")
    os.close(fd)
    archive = Path(archive_name)
    workdir = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        try:
            _fetch(url, archive, timeout=timeout, description=description)
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise DownloadError(str(exc.reason)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(str(exc) or type(exc).__name__) from exc
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(workdir)
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"the downloaded file is not a valid zip archive ({exc})") from exc
        _install(_find_root(workdir, marker), target, marker)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return target
