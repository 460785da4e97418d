"""The few answers the channel gives itself, without asking the model.

Attachments never reach the model (there is nothing it could understand, and story
mention media must not be stored), flooding senders are told to slow down, and a
message the assistant failed on gets an apology rather than silence. A story mention
gets a thank-you with the ice breakers (data/instagram_ice_breakers.yml) as quick replies.
"""

from __future__ import annotations

import functools
import logging
from typing import Dict, List

from channels.instagram import setup
from channels.limits import SLOW_DOWN

__all__ = [
    "ONLY_TEXT",
    "SLOW_DOWN",
    "SORRY",
    "STORY_MENTION_THANKS",
    "TOPIC_BUTTONS",
    "ice_breaker_buttons",
]
logger = logging.getLogger(__name__)

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
STORY_MENTION_THANKS = (
    "Thanks for the mention! If you're wondering about a career at MI5, ask me here or "
    "pick a question below."
)


@functools.lru_cache(maxsize=1)
def ice_breaker_buttons() -> List[Dict[str, str]]:
    """The ice breakers as buttons: the short topic title where one exists, else the
    question (shortened to a quick reply's 20 characters when sent)."""
    titles = {button["payload"]: button["title"] for button in TOPIC_BUTTONS}
    try:
        ice_breakers = setup.load(setup.DEFAULT_FILE)
    except setup.SetupError as error:
        logger.warning("instagram.ice_breakers.unusable error=%s", error)
        return list(TOPIC_BUTTONS)
    return [
        {"title": titles.get(action["payload"], action["question"]), "payload": action["payload"]}
        for action in ice_breakers.call_to_actions
    ]
