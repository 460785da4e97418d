"""Every Prometheus metric the services export, defined once so names and labels agree.

Each process exports the ones it records (the others show as empty families or zero):
the Rasa server messages and tracker-store erasures (and, in the Instagram channel, private
replies and live-question forwards); the action server fallbacks,
handoffs, feed errors and desk erasures; the Instagram channel (in the Rasa server) Graph
API errors and its messages. The desk's queue gauges are in desk/metrics.py. No label
ever carries a sender id or message text.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds an applicant waits: the target is p95 under 0.5 s.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

MESSAGES = Counter(
    "careers_messages",
    "Applicant messages the Rasa server handled, by channel and outcome (ok or error).",
    ["channel", "outcome"],
)
MESSAGE_SECONDS = Histogram(
    "careers_message_seconds",
    "Seconds from an applicant's message arriving to the assistant's answer, by channel.",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
FALLBACKS = Counter(
    "careers_fallbacks",
    "Messages the assistant did not answer on a topic, by its reply: off_topic (what it "
    "covers), did_you_mean (guesses offered), rephrase (not understood, first) or "
    "offer_recruiter (second in a row).",
    ["reply"],
)
HANDOFFS = Counter(
    "careers_handoffs",
    "Hand-overs to a recruiter, by outcome: queued, or unavailable (desk database failed).",
    ["outcome"],
)
FEED_ERRORS = Counter(
    "careers_vacancy_feed_errors",
    "Failed refreshes of the job feed (the assistant answers from its last good copy).",
)
GRAPH_API_ERRORS = Counter(
    "careers_graph_api_errors",
    "Failed Instagram Graph API calls, by outcome (retried or failed) and Graph error code "
    "(network when no answer came, http_<status> when the answer had no code).",
    ["outcome", "code"],
)
ERASURES = Counter(
    "careers_erasures",
    "Conversations erased at the applicant's request, by store (tracker or desk).",
    ["store"],
)
PRIVATE_REPLIES = Counter(
    "careers_private_replies",
    "Private replies to Instagram comments, by outcome: sent, duplicate, expired (over 7 "
    "days), not_live (the broadcast ended), over_cap (the hourly cap: skipped, not queued), "
    "disabled (kill switch or media not covered) or error (the Graph API refused).",
    ["outcome"],
)
DESK_FORWARDS = Counter(
    "careers_live_question_forwards",
    "Live comments forwarded to the desk's Live Q&A board, by outcome: stored, duplicate, "
    "retried or failed (given up after the retries, or dropped with too many pending).",
    ["outcome"],
)
