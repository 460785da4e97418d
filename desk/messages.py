"""What the desk itself says to applicants (the assistant's own answers live in the domain)."""

HOLDING = (
    "Thanks for waiting. Our recruiters are busy right now, but your conversation is in "
    "the queue and a recruiter will reply here as soon as they can."
)
BACK_WITH_ASSISTANT = (
    "You're back with the automated assistant. Ask me anything else about careers at "
    "MI5, or pick a topic."
)
MAX_REPLY_BYTES = 1000
