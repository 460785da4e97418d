"""Made-up words and languages the assistant was never taught fall back, not to a guess.

Unit-length TF-IDF features (components/tfidf_featurizer.py) make a message with almost
no known n-grams look as certain as a clear question: "Zorblax quintessa flibbertigibbet
wumpus?" got an FAQ answer with 0.99 confidence. The classifiers cannot tell "I know this"
from "I know nothing here", so this component counts instead: when more than
`max_unknown_share` of a message's words are neither in the training examples nor close
to a word that is (a typo such as "vettting", or two words run together), it becomes
`nlu_fallback`, and the applicant is asked to rephrase as for any other miss.

It runs after the FallbackClassifier and before the safety phrases, which still win.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any, Dict, List, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent

# Shorter words must match exactly: at three letters almost anything is "close".
MIN_FUZZY_LENGTH = 3
# The share is judged on the first words: a 10,000-word message costs no more than this.
MAX_WORDS_JUDGED = 100


class UnknownWordsSettingsError(ValueError):
    """The component's configuration in config.yml cannot be used."""


def words(message: Message) -> List[Tuple[str, str]]:
    """The message's words and their lemmas, lower case; numbers, punctuation and words of
    recognised entities ("Cheltenham", a job family: known by the entity ruler) left out."""
    entities = [(e["start"], e["end"]) for e in message.get(ENTITIES) or [] if "start" in e]
    found = []
    for token in message.get(TOKENS_NAMES[TEXT]) or []:
        if any(start <= token.start < end for start, end in entities):
            continue
        text = token.text.lower()
        if text.replace("'", "").replace("-", "").isalpha():
            found.append((text, (token.lemma or text).lower()))
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(LearnedJsonComponent):
    FILE = "known_words.json"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_unknown_share": 0.5, "similar_word_cutoff": 0.8}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        learned: List[str] | None = None,
    ) -> None:
        self._max_unknown_share = float(config["max_unknown_share"])
        self._cutoff = float(config["similar_word_cutoff"])
        if not 0 < self._max_unknown_share <= 1 or not 0 < self._cutoff <= 1:
            raise UnknownWordsSettingsError(
                "UnknownWordsFallback: max_unknown_share and similar_word_cutoff must be "
                f"more than 0 and at most 1; got {config['max_unknown_share']!r} and "
                f"{config['similar_word_cutoff']!r}."
            )
        super().__init__(config, model_storage, resource, learned)

    def use(self, learned: List[str] | None) -> None:
        self._vocabulary = set(learned or ())
        # Typos rarely change the first letter; comparing within it keeps lookups fast.
        self._by_first_letter: Dict[str, List[str]] = defaultdict(list)
        for word in self._vocabulary:
            self._by_first_letter[word[0]].append(word)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: set[str] = set()
        for message in training_data.intent_examples:
            for text, lemma in words(message):
                vocabulary.update((text, lemma))
        return self.keep(sorted(vocabulary))

    def unknown_share(self, message: Message) -> float:
        """The share of the message's words the assistant was never taught (0 with no words)."""
        found = words(message)[:MAX_WORDS_JUDGED]
        if not found:
            return 0.0
        return sum(not self._known(text, lemma) for text, lemma in found) / len(found)

    def _known(self, text: str, lemma: str) -> bool:
        vocabulary = self._vocabulary
        if text in vocabulary or lemma in vocabulary:
            return True
        if len(text) < MIN_FUZZY_LENGTH:
            return False
        # Two known words run together ("thankyou", "jobsearch").
        if any(text[:i] in vocabulary and text[i:] in vocabulary for i in range(2, len(text) - 1)):
            return True
        candidates = self._by_first_letter.get(text[0], [])
        return bool(difflib.get_close_matches(text, candidates, n=1, cutoff=self._cutoff))

    def process(self, messages: List[Message]) -> List[Message]:
        if not self._vocabulary:
            return messages  # nothing was trained: leave the classifiers' answer alone
        for message in messages:
            share = self.unknown_share(message)
            if share <= self._max_unknown_share:
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": share}
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT, fallback, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [fallback, *[r for r in ranking if r.get("name") != fallback["name"]]],
                add_to_output=True,
            )
        return messages
