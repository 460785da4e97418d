"""Set the Instagram account's ice breakers from data/instagram_ice_breakers.yml.

    python -m channels.instagram.setup [--dry-run] [--file PATH]

Ice breakers are the questions Instagram offers before an applicant's first message; a
tap sends the question's payload, which the channel passes to Rasa as the message text.
The file is checked before anything is sent: at most 4 questions, each payload an FAQ
topic that has an answer ("faq/<topic>") or an intent in domain.yml ("/intent").
--dry-run prints the request (with the token redacted) and sends nothing.
Exit status: 0 done, 1 Instagram refused, 2 the file or settings are wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Set

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from channels.instagram.graph_api import GraphApiClient, GraphApiError
from channels.instagram.settings import InstagramSettings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = ROOT / "data" / "instagram_ice_breakers.yml"
MAX_ICE_BREAKERS = 4
MAX_QUESTION_CHARS = 80
FAQ_PAYLOAD = re.compile(r"^faq/([a-z0-9_]+)$")
INTENT_PAYLOAD = re.compile(r"^/([A-Za-z0-9_]+)(\{.*\})?$")


class SetupError(ValueError):
    """The ice breakers file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class IceBreakers:
    locale: str
    call_to_actions: List[Dict[str, str]]


def load(path: Path, root: Path = ROOT) -> IceBreakers:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SetupError(f"cannot read {path}: {error.strerror}") from error
    except YAMLError as error:
        raise SetupError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("ice_breakers"), list):
        raise SetupError(f"{path} needs a list under 'ice_breakers'")
    items = data["ice_breakers"]
    if not 1 <= len(items) <= MAX_ICE_BREAKERS:
        raise SetupError(f"Instagram allows 1 to {MAX_ICE_BREAKERS} ice breakers, not {len(items)}")
    topics, intents = known_topics(root), known_intents(root)
    actions = []
    for number, item in enumerate(items, start=1):
        where = f"ice breaker {number}"
        if not isinstance(item, dict):
            raise SetupError(f"{where} must have 'question' and 'payload'")
        question = str(item.get("question") or "").strip()
        payload = str(item.get("payload") or "").strip()
        if not question or len(question) > MAX_QUESTION_CHARS:
            raise SetupError(f"{where}: the question must be 1 to {MAX_QUESTION_CHARS} characters")
        faq, intent = FAQ_PAYLOAD.match(payload), INTENT_PAYLOAD.match(payload)
        if faq and faq.group(1) not in topics:
            raise SetupError(f"{where}: no answer for FAQ topic {payload!r} in data/responses")
        if intent and intent.group(1) not in intents:
            raise SetupError(f"{where}: {payload!r} is not an intent in domain.yml")
        if not (faq or intent):
            raise SetupError(f"{where}: the payload must be 'faq/<topic>' or '/intent'")
        actions.append({"question": question, "payload": payload})
    return IceBreakers(locale=str(data.get("locale") or "default"), call_to_actions=actions)


def known_topics(root: Path) -> Set[str]:
    """FAQ topics that have an answer (utter_faq/<topic> in data/responses/*.yml)."""
    topics: Set[str] = set()
    for file in sorted((root / "data" / "responses").glob("*.yml")):
        responses = (_yaml(file) or {}).get("responses") or {}
        topics.update(key[len("utter_faq/") :] for key in responses if key.startswith("utter_faq/"))
    return topics


def known_intents(root: Path) -> Set[str]:
    intents = (_yaml(root / "domain.yml") or {}).get("intents") or []
    return {next(iter(i)) if isinstance(i, dict) else str(i) for i in intents}


def _yaml(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return None


def preview(settings: InstagramSettings, ice_breakers: IceBreakers) -> str:
    body = {
        "platform": "instagram",
        "ice_breakers": [
            {"call_to_actions": ice_breakers.call_to_actions, "locale": ice_breakers.locale}
        ],
    }
    return "\n".join(
        [
            f"POST {settings.api_base}/me/messenger_profile?platform=instagram",
            "Authorization: Bearer <INSTAGRAM_ACCESS_TOKEN, not shown>",
            "Content-Type: application/json",
            "",
            json.dumps(body, indent=2, ensure_ascii=False),
        ]
    )


async def apply(settings: InstagramSettings, ice_breakers: IceBreakers) -> Dict[str, Any]:
    client = GraphApiClient(settings)
    try:
        return await client.set_ice_breakers(ice_breakers.call_to_actions, ice_breakers.locale)
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m channels.instagram.setup", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    args = parser.parse_args(argv)
    try:
        ice_breakers = load(args.file)
        settings = InstagramSettings.for_setup(need_token=not args.dry_run)
    except (SetupError, SettingsError) as error:
        print(f"Cannot set the ice breakers: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(preview(settings, ice_breakers))
        print("\nDry run: nothing was sent.")
        return 0
    try:
        asyncio.run(apply(settings, ice_breakers))
    except GraphApiError as error:
        print(f"Instagram refused the ice breakers: {error.describe()}", file=sys.stderr)
        return 1
    count = len(ice_breakers.call_to_actions)
    print(f"Ice breakers set: {count} questions, locale {ice_breakers.locale}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
