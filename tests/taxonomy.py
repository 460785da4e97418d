"""The content contract (../shared/brief/taxonomy.md) as data the tests can check against."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY_DOC = ROOT.parent / "shared" / "brief" / "taxonomy.md"

FAQ_TOPICS: List[str] = [
    "eligibility_nationality", "eligibility_age", "eligibility_residency",
    "eligibility_qualifications", "eligibility_criminal_record", "eligibility_drugs",
    "eligibility_health_disability", "eligibility_finances", "eligibility_partner_family",
    "eligibility_appearance",
    "process_how_to_apply", "process_stages", "process_duration", "process_vetting",
    "process_discretion", "process_reapply", "process_multiple_applications",
    "process_feedback", "process_adjustments", "process_application_status",
    "roles_overview", "roles_intelligence_officer", "roles_technology", "roles_languages",
    "roles_surveillance", "roles_analyst", "roles_corporate", "roles_graduates",
    "roles_apprenticeships", "roles_students", "roles_career_changers",
    "life_salary", "life_benefits", "life_locations", "life_hybrid_working",
    "life_flexible_working", "life_training", "life_diversity", "life_secrecy",
    "life_day_to_day",
    "myth_james_bond", "myth_background", "about_difference_mi6_gchq", "about_mi5",
    "public_watching_me", "public_personal_data", "public_complaints_oversight",
    "public_threat_level", "public_contact", "public_other_careers", "public_scams",
]  # fmt: skip

OTHER_INTENTS: List[str] = [
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help",
    "search_vacancies", "request_human", "report_threat", "delete_my_data", "qa_events",
    "distress", "abuse", "out_of_scope",
]  # fmt: skip

# Intents the project added to the taxonomy (trainers may add topics; none may be renamed).
ADDED_INTENTS: List[str] = ["more_vacancies"]


def safety_intents_in_document(text: str) -> List[str]:
    """The intents the taxonomy names as safety intents ("`a`, `b` and `c` are safety
    intents"); the assistant's own list is read from its rules (contracts/safety.py)."""
    sentence = re.search(r"^(.*) are safety intents", text, flags=re.MULTILINE)
    return re.findall(r"`([a-z_]+)`", sentence.group(1)) if sentence else []


def topics_in_document(text: str) -> List[str]:
    return re.findall(r"^- faq/([a-z0-9_]+)", text, flags=re.MULTILINE)


def intents_in_document(text: str) -> List[str]:
    section = text.split("## Other intents", 1)[1]
    names: List[str] = []
    for line in section.splitlines():
        match = re.match(r"^- ([a-z_, ]+?)(?: —|$)", line)
        if match:
            names += [name.strip() for name in match.group(1).split(",")]
    return names
