"""The Instagram input channel: Meta's webhook in, background processing, replies out.

``POST /webhooks/instagram/webhook`` is checked in this order, each step before any
work is done for the next: size (over the limit: 413, without reading the rest), the
``X-Hub-Signature-256`` HMAC over the raw bytes (403), the JSON envelope (400). A good
delivery is acknowledged with 200 at once; its events are deduplicated on the message
id, flood-checked per sender and queued per sender, so Meta never waits for the model
and never times out and redelivers. Being acknowledged, a message is tried again when Rasa
cannot take it for a moment (a database or Redis restart), and the applicant is asked to
send it again only if that lasts.

Comments (``comments`` and ``live_comments`` fields) come through the same webhook, signed
the same way; each comment id is acted on once (the same dedup store) in the background:
channels/instagram/comment_handler.py. The desk asks for private replies to a group of live
questions at ``POST /webhooks/instagram/private_replies`` (desk service token). A story
mention gets a thank-you at most once a day per sender; a reply to a story is a message.
During a scheduled Q&A, a DM asked "for the live" is also passed to the desk's board
(channels/instagram/live_dm_questions.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Union

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.conversation_ids import conversation_id
from channels.flood import FloodControl, Verdict
from channels.instagram import replies, signature
from channels.instagram.comment_handler import BadRequest, CommentHandler
from channels.instagram.comments import CommentEvent
from channels.instagram.dedup import DedupUnavailable, SeenMessageIds, seen_message_ids
from channels.instagram.events import (
    Delivery,
    EventKind,
    InboundEvent,
    MalformedDelivery,
    decode,
    parse_delivery,
)
from channels.instagram.graph_api import TYPING_OFF, TYPING_ON, GraphApiClient
from channels.instagram.live_dm_questions import PASSED_ON
from channels.instagram.output import InstagramOutput
from channels.instagram.reply_store import ReplyStore, reply_store
from channels.instagram.sender_queues import AckFirst, SenderQueues
from channels.instagram.settings import InstagramSettings, SettingsError
from channels.limits import Refused
from channels.request_body import read_limited
from observability.metrics import MESSAGE_SECONDS, MESSAGES

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
PLAIN = {"X-Content-Type-Options": "nosniff"}
SHUTDOWN_DRAIN_SECONDS = 5.0
# Pauses between attempts at a message Rasa failed to take (about half a minute in all).
RETRY_PAUSES_S = (1.0, 2.0, 4.0, 8.0, 15.0)
STORY_MENTION_TTL_SECONDS = 24 * 3600


class InstagramInput(InputChannel):
    """Instagram direct messages, through the Instagram Messaging API."""

    @classmethod
    def name(cls) -> str:
        return "instagram"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        try:
            return cls(InstagramSettings.load(credentials))
        except SettingsError as error:
            raise RasaException(str(error)) from error

    def __init__(
        self,
        settings: InstagramSettings,
        seen: SeenMessageIds | None = None,
        store: ReplyStore | None = None,
    ) -> None:
        self.settings = settings
        self.client = GraphApiClient(settings)
        self.seen: SeenMessageIds = seen or seen_message_ids(settings)
        self.store: ReplyStore = store or reply_store(settings)
        self.comments = CommentHandler(settings, self.client, self.store)
        self.agent: Any = None  # the Rasa agent, known from the first request
        self.flood = FloodControl(settings.messages_per_window, settings.window_seconds)
        self.ack_first = AckFirst()
        self.queues = SenderQueues(self.ack_first, settings.max_concurrent_senders)

    def get_output_channel(self) -> OutputChannel:
        """Lets Rasa's HTTP API send (e.g. a recruiter's reply) through Instagram."""
        return InstagramOutput(self.client, gate=self.ack_first)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("instagram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._handshake(request)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            self.ack_first.request_started()
            try:
                return await self._receive(request, on_new_message)
            finally:
                self.ack_first.request_finished()

        @webhook.route("/private_replies", methods=["POST"])
        async def private_replies(request: Request) -> HTTPResponse:
            return await self._private_replies(request)

        @webhook.listener("before_server_stop")
        async def finish_work(*_: Any) -> None:
            if not await self.queues.drain(SHUTDOWN_DRAIN_SECONDS):
                logger.warning("instagram.shutdown.unfinished senders=%d", self.queues.busy_senders)
            await self.comments.close(SHUTDOWN_DRAIN_SECONDS)
            await self.client.close()

        return webhook

    def _handshake(self, request: Request) -> HTTPResponse:
        mode = request.args.get("hub.mode")
        token = request.args.get("hub.verify_token") or ""
        challenge = request.args.get("hub.challenge")
        token_matches = hmac.compare_digest(
            token.encode("utf-8"), self.settings.verify_token.encode("utf-8")
        )
        if mode != "subscribe" or not token_matches:
            logger.warning("instagram.handshake.refused")
            return response.text("verification failed", status=403, headers=PLAIN)
        if not challenge:
            return response.text("hub.challenge is missing", status=400, headers=PLAIN)
        return response.text(challenge, headers=PLAIN)

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        body = await self._read_body(request)
        if isinstance(body, HTTPResponse):
            return body
        if not signature.is_valid(
            self.settings.app_secret, body, request.headers.get(signature.HEADER)
        ):
            logger.warning("instagram.webhook.refused reason=signature")
            return response.text("invalid or missing X-Hub-Signature-256", status=403)
        try:
            delivery = parse_delivery(decode(body))
        except MalformedDelivery as error:
            logger.warning("instagram.webhook.refused reason=%s", error)
            return response.json({"error": str(error)}, status=400)
        self._know_agent(request)
        if not delivery.for_instagram:
            # Signed by Meta but for another product: acknowledge so it is not resent.
            logger.info("instagram.webhook.ignored object=%s", delivery.object[:40])
            return response.text("EVENT_RECEIVED")
        try:
            await self._accept(delivery, on_new_message)
        except DedupUnavailable as error:
            # Not acknowledged, so Meta delivers it again; events already queued from it are
            # recognised then. Answering without the check could answer a message twice.
            logger.error("instagram.webhook.deferred reason=%s", error)
            return response.text("try again later", status=503, headers={"Retry-After": "30"})
        return response.text("EVENT_RECEIVED")

    def _know_agent(self, request: Request) -> None:
        if self.agent is None:
            self.agent = getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)

    async def _private_replies(self, request: Request) -> HTTPResponse:
        """The desk's "send answer privately": ``{"replies": [{"comment_id", "topic"}]}``."""
        token = self.settings.desk_service_token
        if not token:
            return response.json({"error": "DESK_SERVICE_TOKEN is not set"}, status=503)
        offered = request.headers.get("Authorization") or ""
        if not hmac.compare_digest(offered.encode("utf-8"), f"Bearer {token}".encode()):
            return response.json({"error": "a valid service token is required"}, status=401)
        self._know_agent(request)
        try:
            results = await self.comments.answer_for_desk(self.agent, decode(request.body or b""))
        except (MalformedDelivery, BadRequest) as error:
            return response.json({"error": str(error)}, status=400)
        return response.json({"results": results})

    async def _read_body(self, request: Request) -> Union[bytes, HTTPResponse]:
        """The raw body, or a 413 as soon as it is known to be too big."""
        try:
            return await read_limited(request, self.settings.max_body_bytes)
        except Refused as refused:
            return response.text(str(refused), status=refused.status)

    async def _accept(self, delivery: Delivery, on_new_message: OnNewMessage) -> None:
        for comment in delivery.comments:
            if comment.own:
                continue  # the account's own comments and public replies
            if not await self.seen.first_sighting(f"comment:{comment.comment_id}"):
                logger.info("instagram.comment.duplicate")
                continue
            self.queues.submit(f"comment:{comment.commenter_id}", _CommentJob(self, comment))
        for event in delivery.events:
            if not event.answered:
                logger.debug("instagram.event.not_answered kind=%s", event.kind.value)
                continue
            if event.mid and not await self.seen.first_sighting(event.mid):
                logger.info("instagram.event.duplicate kind=%s", event.kind.value)
                continue
            verdict = self.flood.check(event.sender_id)
            if verdict is Verdict.DROP:
                continue
            if verdict is Verdict.WARN:
                logger.warning("instagram.flood.limited")
            self.queues.submit(
                event.sender_id, _Job(self, event, on_new_message, verdict is Verdict.WARN)
            )

    async def _typing(self, recipient_id: str, action: str) -> None:
        # Logged by the client; the indicator is only a courtesy.
        with contextlib.suppress(Exception):
            await self.client.sender_action(recipient_id, action)

    async def handle(
        self,
        event: InboundEvent,
        on_new_message: OnNewMessage,
        slow_down: bool,
        received_at: float | None = None,
    ) -> None:
        """Answer one event; runs in the sender's queue, after their earlier messages.

        `received_at` (time.monotonic() when the webhook delivered it) times the answer for
        the careers_message_seconds metric, queueing included.
        """
        sender = event.sender_id
        # Rasa and the output channel see the namespaced id; only the Graph API sees the IGSID.
        conversation = conversation_id(self.name(), sender)
        if slow_down:
            await InstagramOutput(self.client).send_text_message(conversation, replies.SLOW_DOWN)
            return
        if event.kind is EventKind.STORY_MENTION:
            await self._thank_for_mention(conversation)
            return
        if event.kind is EventKind.ATTACHMENT:
            await InstagramOutput(self.client).send_text_with_buttons(
                conversation, replies.ONLY_TEXT, replies.TOPIC_BUTTONS
            )
            return
        typing = asyncio.get_running_loop().create_task(self._typing(sender, TYPING_ON))
        output = InstagramOutput(self.client, before_first_send=typing, gate=self.ack_first)
        message = UserMessage(
            text=event.text,
            output_channel=output,
            sender_id=conversation,
            input_channel=self.name(),
            message_id=event.mid,
            metadata=_metadata(event),
        )
        outcome = "ok"
        try:
            if not await self._answer(message, on_new_message, output):
                outcome = "error"
                await output.send_text_message(conversation, replies.SORRY)
            elif await self._for_the_live(event):
                await output.send_text_message(conversation, PASSED_ON)
        finally:
            MESSAGES.labels(channel=self.name(), outcome=outcome).inc()
            if received_at is not None:
                MESSAGE_SECONDS.labels(channel=self.name()).observe(time.monotonic() - received_at)
            if output.sent == 0:
                await typing
                await self._typing(sender, TYPING_OFF)

    async def _for_the_live(self, event: InboundEvent) -> bool:
        """A typed DM asked "for the live" during a scheduled Q&A goes to the desk's board too."""
        if event.kind is not EventKind.TEXT:
            return False
        try:
            return await self.comments.live_dms.consider(
                event.sender_id, event.mid, event.text, event.timestamp, self.agent
            )
        except Exception as error:  # the DM was answered; the board is a bonus
            logger.error("instagram.live_dm.failed error=%s", type(error).__name__)
            return False

    async def _thank_for_mention(self, conversation: str) -> None:
        """One thank-you a day per sender; the mentioned story is never fetched or kept."""
        try:
            first = await self.store.claim(f"mention:{conversation}", STORY_MENTION_TTL_SECONDS)
        except DedupUnavailable:
            logger.error("instagram.story_mention.unchecked reason=store unavailable")
            return
        if first:
            await InstagramOutput(self.client).send_text_with_buttons(
                conversation, replies.STORY_MENTION_THANKS, replies.ice_breaker_buttons()
            )

    async def _answer(
        self, message: UserMessage, on_new_message: OnNewMessage, output: InstagramOutput
    ) -> bool:
        """Hand the message to Rasa; False if it could not be answered.

        The delivery was acknowledged, so Meta will not send it again: a failure before
        anything was answered (the tracker store or lock store down for a moment) is tried
        again for up to RETRY_PAUSES_S, keeping the sender's later messages behind it.
        Once a reply has gone out, trying again would answer twice, so it is not retried.
        """
        for pause in (*RETRY_PAUSES_S, None):
            try:
                await on_new_message(message)
                return True
            except Exception as error:
                # Database errors can quote the applicant's text: the details only at DEBUG.
                failure = f"{type(error).__module__}.{type(error).__name__}"
                logger.debug("instagram.message.error", exc_info=True)
                if output.sent or pause is None:
                    logger.error("instagram.message.failed error=%s", failure)
                    return False
                logger.warning("instagram.message.retry error=%s in_seconds=%s", failure, pause)
                await asyncio.sleep(pause)
        return False


class _Job:
    """One queued event; a class rather than a closure so queued work is inspectable."""

    __slots__ = ("channel", "event", "on_new_message", "received_at", "slow_down")

    def __init__(
        self,
        channel: InstagramInput,
        event: InboundEvent,
        on_new_message: OnNewMessage,
        slow_down: bool,
    ) -> None:
        self.channel = channel
        self.event = event
        self.on_new_message = on_new_message
        self.slow_down = slow_down
        self.received_at = time.monotonic()

    async def __call__(self) -> None:
        await self.channel.handle(self.event, self.on_new_message, self.slow_down, self.received_at)


class _CommentJob:
    """One queued comment, handled after the webhook's acknowledgement."""

    __slots__ = ("channel", "comment")

    def __init__(self, channel: InstagramInput, comment: CommentEvent) -> None:
        self.channel = channel
        self.comment = comment

    async def __call__(self) -> None:
        await self.channel.comments.handle(self.comment, self.channel.agent)


def _metadata(event: InboundEvent) -> Dict[str, Any]:
    """What the tracker keeps about the message: ids and kinds, never media URLs."""
    meta: Dict[str, Any] = {"mid": event.mid, "timestamp": event.timestamp}
    meta["event"] = event.kind.value
    if event.attachment_types:
        meta["attachment_types"] = list(event.attachment_types)
    if event.story_reply:
        meta["story_reply"] = True
    return {"instagram": meta}
