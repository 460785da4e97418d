"""The plug-in package for the Rasa server process: everything of ours that runs inside it
other than the graph components (components/) and the applicant-facing channels (channels/).

- tracker_store.py (with tracker_cache.py): the SQL tracker store that erases, keeping recent
  conversations in memory between turns (endpoints*.yml `tracker_store`);
- lock_store.py: the FIFO conversation lock in Redis for several replicas (endpoints.prod.yml);
- ops.py: health and metrics as an input channel (credentials*.yml), which also installs
  log_redaction.py once when the server starts;
- the patches of private Rasa and TensorFlow APIs, each behind the one version guard in
  versions.py and listed with what to check on an upgrade in docs/upgrading.md:
  action_calls.py, tracker_store_errors.py, paused_safety.py, event_types.py,
  response_payloads.py, tf_predict.py;
- __main__.py: `python -m rasa_server`, Rasa's command line after installing the patches.
"""
