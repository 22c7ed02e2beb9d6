"""REST handlers of interactions: the callback (the bot's first answer) and the interaction's webhook
(follow-ups, and edits and deletes of its messages). Neither needs the bot token, as on Discord."""

from __future__ import annotations

import time

from aiohttp import web

from discord_emulator import limits
from discord_emulator.attachments import Attachments
from discord_emulator.guild import Guild
from discord_emulator.messages import FLAG_EPHEMERAL, FLAG_LOADING, StoredMessage
from discord_emulator.models import JSON, Channel
from discord_emulator.records import (
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    PONG,
    UPDATE_MESSAGE,
    CallbackRecord,
    InteractionRecord,
    InteractionRegistry,
    WebhookAction,
)
from discord_emulator.rest_http import (
    DiscordError,
    ParsedRequest,
    form_error,
    json_response,
    no_content,
    refuse_empty_message,
    snowflake,
)
from discord_emulator.state import EmulatorState

#: Which callback types each interaction type accepts (2 command, 3 component, 4 autocomplete, 5 modal submit).
_ALLOWED_CALLBACKS = {
    1: {PONG},
    2: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    3: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    4: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
    5: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}


class InteractionEndpoints:
    """POST /interactions/{id}/{token}/callback and the /webhooks/{application id}/{token} routes."""

    def __init__(
        self,
        state: EmulatorState,
        interactions: InteractionRegistry,
        attachments: Attachments,
        *,
        interaction_deadline: float | None = 3.0,
    ) -> None:
        self.state = state
        self.interactions = interactions
        self._attachments = attachments
        #: Seconds the bot has to answer an interaction's callback (Discord: 3); None disables the check.
        self.interaction_deadline = interaction_deadline

    def _interaction_by_token(self, webhook_id: str, token: str) -> InteractionRecord:
        record = self.interactions.by_token.get(token)
        if record is None or snowflake(webhook_id) != self.state.application.id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    # -- interactions -----------------------------------------------------------------------------

    async def interaction_callback(self, req: ParsedRequest) -> web.Response:
        record = self.interactions.by_id.get(snowflake(req.params["interaction_id"]))
        if record is None or record.token != req.params["interaction_token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        body = req.body()
        callback_type = body.get("type")
        now = time.perf_counter()
        if record.callback is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if self.interaction_deadline is not None and now - record.dispatched_at > self.interaction_deadline:
            # Discord forgets an interaction not acknowledged within 3 s; the user sees "did not respond".
            record.rejections.append(
                f"callback after {now - record.dispatched_at:.3f}s (deadline {self.interaction_deadline}s)"
            )
            record._notify()
            raise DiscordError(404, 10062, "Unknown interaction")
        if not isinstance(callback_type, int) or callback_type not in _ALLOWED_CALLBACKS.get(record.type, set()):
            errors = limits.FormErrors()
            errors.add(
                ("type",), "INTERACTION_RESPONSE_TYPE_INVALID", f"Invalid interaction response type {callback_type!r}"
            )
            raise form_error(errors)
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        guild, channel = self._interaction_channel(record)
        files = req.files
        errors = limits.FormErrors()
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE) and data is not None:
            limits.check_message(data, errors, ("data",))
        elif callback_type == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            limits.check_choices(data or {}, errors)
        elif callback_type == MODAL:
            limits.check_modal(data or {}, errors)
        if errors:
            raise form_error(errors)
        if callback_type == CHANNEL_MESSAGE_WITH_SOURCE:
            refuse_empty_message(data or {}, files)

        message: StoredMessage | None = None
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            body_for_message = dict(data or {})
            extra = 0
            if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
                # Only the ephemeral flag of a defer matters; the message is an empty "is thinking..." one.
                body_for_message = {"flags": (data or {}).get("flags", 0) & FLAG_EPHEMERAL}
                extra = FLAG_LOADING
            attachments, blobs = self._attachments.from_uploads(
                channel, body_for_message, files, ephemeral=bool(body_for_message.get("flags", 0) & FLAG_EPHEMERAL)
            )
            message = self.state.messages.create(
                channel,
                self.state.bot_user,
                body_for_message,
                message_type=_reply_type(record),
                webhook_id=self.state.application.id,
                interaction_metadata=self._interaction_metadata(record),
                attachments=attachments,
                files=blobs,
                extra_flags=extra,
            )
            record.original_message_id = message.id
        elif callback_type == UPDATE_MESSAGE and record.original_message_id is not None:
            stored = self.state.messages.live(record.original_message_id)
            if stored is None:
                raise DiscordError(404, 10008, "Unknown Message")
            new_attachments, blobs = self._attachments.from_uploads(
                channel, data or {}, files, ephemeral=bool(stored.payload["flags"] & FLAG_EPHEMERAL)
            )
            message = self.state.messages.edit(stored, data or {}, new_attachments=new_attachments, files=blobs)
        elif callback_type == DEFERRED_UPDATE_MESSAGE and record.original_message_id is not None:
            message = self.state.messages.live(record.original_message_id)

        record.callback = CallbackRecord(type=callback_type, data=data, at=now, files=[f[1] for f in files])
        record._notify()
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return no_content()
        # The "interaction callback response" discord.py reads: response_message_id keys its view store.
        interaction: JSON = {
            "id": str(record.id),
            "type": record.type,
            "activity_instance_id": None,
            "response_message_id": str(message.id) if message is not None else None,
            "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": bool(message is not None and message.payload["flags"] & FLAG_EPHEMERAL),
        }
        if message is None:
            interaction.pop("response_message_id")
        resource: JSON = {"type": callback_type}
        if message is not None and callback_type in (
            CHANNEL_MESSAGE_WITH_SOURCE,
            DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            UPDATE_MESSAGE,
        ):
            resource["message"] = message.payload
        return json_response({"interaction": interaction, "resource": resource})

    def _interaction_channel(self, record: InteractionRecord) -> tuple[Guild, Channel]:
        found = self.state.find_channel(record.channel_id or 0)
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    def _interaction_metadata(self, record: InteractionRecord) -> JSON:
        payload = record.payload
        user = (payload.get("member") or {}).get("user") or payload.get("user")
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if record.type == 2:
            metadata["name"] = payload["data"]["name"]
            metadata["command_type"] = payload["data"].get("type", 1)
            if metadata["command_type"] == 2:
                metadata["target_user"] = payload["data"]["resolved"]["users"][payload["data"]["target_id"]]
        if record.type == 3 and payload.get("message"):
            metadata["interacted_message_id"] = payload["message"]["id"]
        return metadata

    # -- interaction webhooks ---------------------------------------------------------------------

    def _webhook_target(self, req: ParsedRequest, record: InteractionRecord) -> tuple[StoredMessage, bool]:
        raw = req.params.get("message_id")
        if raw is None:  # @original
            if record.original_message_id is None:
                raise DiscordError(404, 10008, "Unknown Message")
            stored = self.state.messages.live(record.original_message_id)
            if stored is None:
                raise DiscordError(404, 10008, "Unknown Message")
            return stored, True
        message_id = snowflake(raw)
        if message_id != record.original_message_id and message_id not in record.followup_ids:
            raise DiscordError(404, 10008, "Unknown Message")
        stored = self.state.messages.live(message_id)
        if stored is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return stored, message_id == record.original_message_id

    async def execute_webhook(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        if record.callback is None:
            # The interaction webhook exists only once the interaction is acknowledged.
            raise DiscordError(404, 10015, "Unknown Webhook")
        body = req.body(limits.check_message)
        refuse_empty_message(body, req.files)
        guild, channel = self._interaction_channel(record)
        now = time.perf_counter()
        original = self.state.messages.live(record.original_message_id) if record.original_message_id else None
        if (
            record.callback.type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            and original is not None
            and original.payload["flags"] & FLAG_LOADING
        ):
            # Documented compatibility rule: the first follow-up after a "thinking" defer edits that message,
            # keeping the defer's ephemeral state.
            ephemeral = bool(original.payload["flags"] & FLAG_EPHEMERAL)
            new_attachments, blobs = self._attachments.from_uploads(channel, body, req.files, ephemeral=ephemeral)
            edit = {
                k: v
                for k, v in body.items()
                if k in ("content", "embeds", "components", "poll", "attachments", "flags")
            }
            edit.setdefault("content", body.get("content") or "")
            stored = self.state.messages.edit(original, edit, new_attachments=new_attachments, files=blobs)
            record.followup_ids.append(stored.id)
            record.actions.append(WebhookAction("followup", stored.id, body, now, original=True))
        else:
            ephemeral = bool((body.get("flags") or 0) & FLAG_EPHEMERAL)
            attachments, blobs = self._attachments.from_uploads(channel, body, req.files, ephemeral=ephemeral)
            stored = self.state.messages.create(
                channel,
                self.state.bot_user,
                body,
                message_type=0,
                webhook_id=self.state.application.id,
                interaction_metadata=self._interaction_metadata(record),
                attachments=attachments,
                files=blobs,
            )
            record.followup_ids.append(stored.id)
            record.actions.append(WebhookAction("followup", stored.id, body, now))
        record._notify()
        if req.query.get("wait", "").lower() in ("1", "true"):
            return json_response(stored.payload)
        return no_content()

    async def get_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, _ = self._webhook_target(req, record)
        return json_response(stored.payload)

    async def edit_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, is_original = self._webhook_target(req, record)
        body = req.body(limits.check_message)
        guild, channel = self._interaction_channel(record)
        new_attachments, blobs = self._attachments.from_uploads(
            channel, body, req.files, ephemeral=bool(stored.payload["flags"] & FLAG_EPHEMERAL)
        )
        self.state.messages.edit(stored, body, new_attachments=new_attachments, files=blobs)
        record.actions.append(WebhookAction("edit", stored.id, body, time.perf_counter(), original=is_original))
        record._notify()
        return json_response(stored.payload)

    async def delete_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, is_original = self._webhook_target(req, record)
        self.state.messages.delete(stored)
        record.actions.append(WebhookAction("delete", stored.id, None, time.perf_counter(), original=is_original))
        record._notify()
        return no_content()


def _reply_type(record: InteractionRecord) -> int:
    """A reply's message type: CHAT_INPUT_COMMAND (20), CONTEXT_MENU_COMMAND (23), else DEFAULT (0)."""
    if record.type != 2:
        return 0
    return 20 if record.payload["data"].get("type", 1) == 1 else 23
