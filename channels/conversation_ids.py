"""Conversation ids that belong to a channel: ``<namespace>:<the channel's own id>``.

Every channel puts its conversations in its own namespace, so no channel can read, write
or erase another's: a REST client that sends ``"sender": "instagram:123"`` talks in the
conversation ``rest:instagram:123``, never in the Instagram applicant's ``instagram:123``.
Output channels send only to ids in their own namespace. The desk, the inbox, erasure and
the purge see these ids as they are; conversations stored before namespacing are renamed
once by ``python -m scripts.namespace_ids`` (docs/privacy.md).
"""

from __future__ import annotations

from typing import Dict

# Rasa channel name -> the namespace of its conversations.
NAMESPACES: Dict[str, str] = {
    "instagram": "instagram",
    "rest": "rest",
    "socketio": "webchat",
}
SEPARATOR = ":"


def conversation_id(channel: str, external_id: str) -> str:
    """The Rasa conversation id for `external_id` (a sender or session id) on `channel`."""
    return f"{NAMESPACES[channel]}{SEPARATOR}{external_id}"


def external_id(channel: str, conversation: str) -> str | None:
    """The channel's own id inside `conversation`, or None if it is not the channel's."""
    prefix = f"{NAMESPACES[channel]}{SEPARATOR}"
    if not conversation.startswith(prefix) or len(conversation) == len(prefix):
        return None
    return conversation[len(prefix) :]


def channel_of(conversation: str) -> str | None:
    """The channel a conversation id belongs to, or None for an id outside every namespace."""
    namespace = conversation.partition(SEPARATOR)[0]
    for channel, owned in NAMESPACES.items():
        if owned == namespace and external_id(channel, conversation) is not None:
            return channel
    return None
