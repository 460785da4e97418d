"""Contracts shared by more than one service, each in one place: pure Python, PyYAML and
PyJWT only, so every image that needs one copies `contracts/` (and the data it reads) and nothing
else of the other services.

- safety.py: the safety intents, read from the rules that answer them;
- recruiter_reply.py: the channel-neutral event the desk sends when a recruiter answers;
- rasa_api_auth.py: how a client authenticates to the Rasa HTTP API (token or JWT).
"""
