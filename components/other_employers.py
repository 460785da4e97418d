"""Careers questions about another employer get that signpost, not MI5's own answer.

"MI6 nationality and citizenship rules", "can people with depression join the military?",
"how much do GCHQ analysts earn": the classifiers weigh words one by one, so the many
examples about nationality, health or pay outweigh the one word that names the employer,
and the applicant is told MI5's rules as if they were MI6's or the Army's. Of the twelve
quoted development questions (tuning/other_words.tsv) the model got wrong, six were of this
kind; 31 more training examples about other employers' rules, pay and jobs put right two
of them and none of the rest: a bag of words cannot learn that the employer changes the
topic.

So this component, placed after the open-set decision, reads that one thing directly:
when a message answered with a careers topic (eligibility, process, roles, working life, or
a vacancy search) names another employer as the place to join or work ("join the navy",
"MI6 jobs", "work for GCHQ") and does not name MI5, it answers ``faq/public_other_careers``
instead; a message with no answer yet (off-topic, "did you mean") moves only when it names
the employer as the place to join or work. It leaves alone what is about MI5 after all: a
message that names MI5, someone who was in the Army or whose family is in the police
(career changers, partner and family), two applications at once, comparisons, and every
topic outside careers ("is MI6 like James Bond?", MI5 against GCHQ, safety intents). The
names live in config.yml.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent
from components.open_set import TOPIC_CANDIDATES
from components.topic_labels import (
    NOT_UNDERSTOOD,
    current_label,
    responses_by_topic,
    select_topic,
)

OTHER_CAREERS = "faq/public_other_careers"
SEARCH_VACANCIES = "search_vacancies"
# No answer yet (off-topic, "did you mean", not understood): moved only on the strong sign,
# the other employer as the place to join or work ("can people with depression join the
# military?" was a "did you mean"; the taxonomy makes joining the police a topic).
UNANSWERED = frozenset({"out_of_scope", NOT_UNDERSTOOD})
# Careers topics a question about another employer can be mistaken for.
CAREERS_AREAS = ("faq/eligibility_", "faq/process_", "faq/roles_", "faq/life_")
# About MI5 even when another employer is named: two applications at once (MI5 and GCHQ).
NEVER_REROUTED = frozenset({"faq/process_multiple_applications"})
# Naming an employer's job ("police officer") is what a career changer or a relative says
# of themselves ("I'm a police officer", "my dad is in the army"): these two topics move
# only when the employer is what the applicant wants to join.
ONLY_WHEN_JOINING = frozenset({"faq/roles_career_changers", "faq/eligibility_partner_family"})
JOINING = (
    r"join|joining|enter|entering|entry (?:in)?to|get into|getting into|"
    r"(?:apply|applying|applied|application|applications) (?:to|for|at|with)|"
    r"(?:work|working|career|careers|job|jobs) (?:for|at|in|with)|"
    r"become an?|becoming an?|be in"
)
EMPLOYERS_JOB = (
    r"jobs?|careers?|roles?|vacanc\w*|recruit\w*|officers?|agents?|analysts?|staff|"
    r"salar\w*|pay|entry|requirements?|eligibility|nationality|citizenship|selection|"
    r"applications?|applicants?|apprentice\w*|graduates?|intern\w*"
)
# "What is MI6, how do I get a job there?": the employer named, then joined by pronoun.
JOINING_THERE = re.compile(
    r"\b(?:work|working|job|jobs|career|careers|apply|applying|join|joining|get in) there\b"
)
# "is it like police vetting?", "do police officers make good IOs?": a comparison with
# MI5, not a question about the other employer.
COMPARING = re.compile(r"\b(?:like|than|vs|versus|compared?|difference|similar)\b")
# Someone speaking of their own or their family's service, not of joining.
OWN_SERVICE = re.compile(
    r"\b(?:i'?m|i am|i was|i've been|ive been|as|currently) (?:an? |in the )|\bex[- ]|"
    r"\b(?:former|retired|serving|served|veteran|left the|leaving the)\b|"
    r"\bmy (?:dad|mum|mom|mother|father|partner|husband|wife|brother|sister|boyfriend|"
    r"girlfriend|fianc\w*|son|daughter|parents?|family|uncle|aunt)\b"
)


def _names(names: List[str]) -> str:
    return "|".join(re.escape(name.lower()) for name in sorted(names, key=len, reverse=True))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OtherEmployerRouter(LearnedJsonComponent):
    """Moves a careers answer to ``faq/public_other_careers`` when another employer is asked
    about (see the module doc)."""

    FILE = "other_careers_responses.json"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"employers": [], "own_names": ["mi5", "security service"]}

    def use(self, learned: List[Dict[str, Any]] | None) -> None:
        self._answer = learned or []
        employers = _names(self._config["employers"]) or r"(?!)"
        self._joining = re.compile(rf"\b(?:{JOINING}) (?:the )?(?:{employers})\b")
        self._employers_job = re.compile(rf"\b(?:{employers})(?:'s)? (?:{EMPLOYERS_JOB})\b")
        self._named = re.compile(rf"\b(?:{employers})\b")
        self._own = re.compile(rf"\b(?:{_names(self._config['own_names'])})\b")

    def train(self, training_data: TrainingData) -> Resource:
        return self.keep(responses_by_topic(training_data.responses).get(OTHER_CAREERS))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            label = current_label(message)
            if self._answer and self.about_another_employer(message.get(TEXT) or "", label):
                confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
                select_topic(message, OTHER_CAREERS, confidence, self._answer)
                if message.get(TOPIC_CANDIDATES):
                    message.set(TOPIC_CANDIDATES, [], add_to_output=True)
        return messages

    def about_another_employer(self, text: str, label: str) -> bool:
        """Whether a message answered with `label` asks about working elsewhere."""
        lowered = " ".join(text.lower().replace("\u2019", "'").split())
        if self._own.search(lowered):
            return False
        joining = bool(self._joining.search(lowered)) or self._joining_there(lowered)
        if label in UNANSWERED:
            return joining
        reroutable = label == SEARCH_VACANCIES or label.startswith(CAREERS_AREAS)
        if not reroutable or label in NEVER_REROUTED:
            return False
        if joining:
            return True
        if label in ONLY_WHEN_JOINING or OWN_SERVICE.search(lowered) or COMPARING.search(lowered):
            return False
        return bool(self._employers_job.search(lowered))

    def _joining_there(self, lowered: str) -> bool:
        """An employer named, then "a job there": joining it, unless it is the applicant's
        own or family's service or a comparison with MI5."""
        return bool(
            JOINING_THERE.search(lowered)
            and self._named.search(lowered)
            and not OWN_SERVICE.search(lowered)
            and not COMPARING.search(lowered)
        )
