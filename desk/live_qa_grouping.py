"""Live Q&A questions grouped by meaning as they arrive, one broadcast at a time.

Two questions share a group when the channel understood the same topic in both (the FAQ the
answer comes from), or when their redacted texts are near-duplicates (training/grouping.py,
the trainers' inbox grouping). A question with no understood topic joins the group of a
near-duplicate; a question with a topic joins that topic's group, and a group of topic-less
near-duplicates takes the topic of the first such question that arrives (it asks the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

from training.grouping import DEFAULT_SIMILARITY, NearDuplicates


@dataclass(frozen=True)
class Placement:
    """Where a new question goes: an existing group (or None: a new one), and whether that
    group, which has no topic yet, takes the question's topic."""

    group_id: int | None
    adopt_topic: bool = False


class BroadcastIndex:
    """One broadcast's groups: by topic, and by the texts already in them.

    It is rebuilt from the stored questions in arrival order (`learn`), so every desk
    replica places a question the same way whichever replica stored the earlier ones.
    """

    def __init__(self, threshold: float = DEFAULT_SIMILARITY) -> None:
        self.by_topic: Dict[str, int] = {}
        self.topic_of: Dict[int, str | None] = {}
        # Each distinct wording (up to near-duplicates) and the group it is in.
        self.wordings: NearDuplicates[int] = NearDuplicates(threshold, keep_members=1)
        self.last_question_id = 0

    def learn(self, group_id: int, text: str, topic: str | None, question_id: int = 0) -> None:
        """A stored question (or one just placed) with its group's topic now."""
        if topic:
            self.by_topic.setdefault(topic, group_id)
            self.topic_of[group_id] = topic
        else:
            self.topic_of.setdefault(group_id, None)
        if text and self.wordings.find(text) is None:
            self.wordings.add(text, group_id)
        self.last_question_id = max(self.last_question_id, question_id)

    def place(self, text: str, topic: str | None) -> Placement:
        similar = self.wordings.find(text) if text else None
        similar_id = similar.members[0] if similar is not None and similar.members else None
        if not topic:
            return Placement(similar_id)
        if topic in self.by_topic:
            return Placement(self.by_topic[topic])
        if similar_id is not None and self.topic_of.get(similar_id) is None:
            return Placement(similar_id, adopt_topic=True)
        return Placement(None)
