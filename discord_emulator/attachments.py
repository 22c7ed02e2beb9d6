"""Uploaded files: attachment objects for ``files[n]`` parts, and the "CDN" that serves their bytes back."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from discord_emulator.models import JSON, Channel
from discord_emulator.rest_http import snowflake
from discord_emulator.state import EmulatorState

#: A multipart file part: (field name, filename, data, content type).
Upload = tuple[str, str, bytes, str]


class Attachments:
    """Turns uploads into attachments served from this emulator, and serves them (GET /attachments/...)."""

    def __init__(self, state: EmulatorState, *, base_url: Callable[[], str]) -> None:
        self.state = state
        self._base_url = base_url

    def from_uploads(
        self, channel: Channel, body: JSON, files: list[Upload], *, ephemeral: bool
    ) -> tuple[list[JSON], dict[int, bytes]]:
        """Turn uploaded ``files[n]`` parts into attachment objects served from this emulator."""
        described = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        out: list[JSON] = []
        blobs: dict[int, bytes] = {}
        for field_name, filename, data, content_type in files:
            index = field_name[len("files[") : -1] if field_name.startswith("files[") else field_name
            info = described.get(index, {})
            attachment_id = self.state.snowflakes.next()
            name = info.get("filename") or filename
            url = f"{self._base_url()}/attachments/{channel.id}/{attachment_id}/{name}"
            attachment: JSON = {
                "id": str(attachment_id),
                "filename": name,
                "size": len(data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type if content_type != "application/octet-stream" else guess_type(name),
            }
            if info.get("description"):
                attachment["description"] = info["description"]
            if ephemeral:
                attachment["ephemeral"] = True
            out.append(attachment)
            blobs[attachment_id] = data
        return out, blobs

    async def serve(self, request: web.Request) -> web.StreamResponse:
        attachment_id = snowflake(request.match_info["attachment_id"])
        blob = self.state.uploads.get(attachment_id)
        if blob is None:
            live = (m for m in self.state.messages.values() if not m.deleted and attachment_id in m.files)
            blob = next((m.files[attachment_id] for m in live), None)
        if blob is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=blob, content_type=guess_type(request.match_info["filename"]))


def guess_type(filename: str) -> str:
    lowered = filename.lower()
    for suffix, kind in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".txt", "text/plain"),
        (".json", "application/json"),
        (".csv", "text/csv"),
    ):
        if lowered.endswith(suffix):
            return kind
    return "application/octet-stream"
