"""Erase one applicant's data on a request that came another way (email, letter):

python -m privacy.erase SENDER_ID

The same erasure as the assistant's delete_my_data, for staff: the desk's records of that
sender id, through the desk's service API (DELETE /api/applicants/{id} at DESK_URL, default
http://localhost:5006, with DESK_SERVICE_TOKEN); then the conversation, by adding the erasure
marker through the Rasa server's HTTP API, so it happens under the conversation's lock and
nothing is written back (see rasa_server/tracker_store.py). RASA_URL (default
http://localhost:5005) and the API's credential (RASA_JWT_SECRET, else RASA_TOKEN or the token
`make run` keeps in var/) say where.
Exit status 0 when both are erased, 1 when either failed (running it again is safe).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Tuple
from urllib.parse import quote

import requests

from contracts.rasa_api_auth import api_jwt, api_token
from privacy.erasure import ERASED_SLOT

TIMEOUT_S = 30.0


def rasa_auth() -> Tuple[Dict[str, str], Dict[str, str]]:
    """Query parameters and headers for the Rasa HTTP API, as the desk authenticates."""
    secret = os.environ.get("RASA_JWT_SECRET", "")
    if secret:
        return {}, {"Authorization": f"Bearer {api_jwt(secret)}"}
    return {"token": api_token()}, {}


def erase_conversation(rasa_url: str, sender_id: str) -> None:
    params, headers = rasa_auth()
    reply = requests.post(
        # Rasa does not unquote the id in the path: the namespace's ":" goes as it is.
        f"{rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe=':')}/tracker/events",
        params=params,
        headers=headers,
        json=[{"event": "slot", "name": ERASED_SLOT, "value": True}],
        timeout=TIMEOUT_S,
    )
    if reply.status_code != 200:
        raise RuntimeError(f"the Rasa server answered HTTP {reply.status_code}")


def erase_desk_records(sender_id: str) -> Dict[str, int]:
    """The desk deletes its own records of this applicant (the desk owns its database)."""
    token = os.environ.get("DESK_SERVICE_TOKEN", "")
    if not token:
        raise RuntimeError("DESK_SERVICE_TOKEN is not set")
    reply = requests.delete(
        f"{os.environ.get('DESK_URL', 'http://localhost:5006').rstrip('/')}"
        f"/api/applicants/{quote(sender_id, safe='')}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT_S,
    )
    if reply.status_code != 200:
        raise RuntimeError(f"the desk answered HTTP {reply.status_code}")
    body = reply.json()
    return {key: int(body.get(key, 0)) for key in ("handoffs_erased", "rows_erased")}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.erase", description=__doc__)
    parser.add_argument(
        "sender_id", help="the conversation id, with its channel: instagram:<IGSID>, rest:<sender>"
    )
    args = parser.parse_args(argv)
    failures: List[str] = []
    parts: List[str] = []
    try:
        erased = erase_desk_records(args.sender_id)
        parts.append(
            f"desk: {erased['handoffs_erased']} handoffs erased "
            f"({erased['rows_erased']} messages, notes and other rows)"
        )
    except Exception as error:
        why = str(error) if isinstance(error, RuntimeError) else type(error).__name__
        failures.append(f"desk: FAILED ({why})")
    try:
        erase_conversation(os.environ.get("RASA_URL", "http://localhost:5005"), args.sender_id)
        parts.append("conversation: erased")
    except Exception as error:
        # Not the text of a requests error: it has the URL, with the token in it.
        why = str(error) if isinstance(error, RuntimeError) else type(error).__name__
        failures.append(f"conversation: FAILED ({why})")
    line = "; ".join(parts + failures)
    if failures:
        print(f"erasure incomplete: {line}", file=sys.stderr)
        return 1
    print(f"erased: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
