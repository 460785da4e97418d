"""Code of ours that runs inside the Rasa server process (not a channel, not a component):
the conversation lock store for several replicas, bounded action calls with an apology when
the action server fails, safety answers that go out while a recruiter has the conversation,
conversations kept in memory between turns (for rasa_server/tracker_store.py), and the
entrypoint that installs them (`python -m rasa_server`).
"""
