"""The few answers the channel gives itself, without asking the model.

Attachments never reach the model (there is nothing it could understand, and story
mention media must not be stored), flooding senders are told to slow down, and a
message the assistant failed on gets an apology rather than silence.
"""

from __future__ import annotations

from typing import Dict, List

from channels.limits import SLOW_DOWN

__all__ = ["ONLY_TEXT", "SLOW_DOWN", "SORRY", "TOPIC_BUTTONS"]

ONLY_TEXT = (
    "Thanks for sending that. I can only read text messages, so I can't see photos, "
    "videos, voice messages, shared posts, reels or story mentions. Please type your "
    "question, or pick a topic below."
)
# The same topics the greeting offers (utter_greet in domain.yml).
TOPIC_BUTTONS: List[Dict[str, str]] = [
    {"title": "Who can apply?", "payload": "faq/eligibility_nationality"},
    {"title": "How do I apply?", "payload": "faq/process_how_to_apply"},
    {"title": "Types of jobs", "payload": "faq/roles_overview"},
    {"title": "What is vetting?", "payload": "faq/process_vetting"},
]
SORRY = "Sorry, something went wrong on my side. Please try sending your message again."
