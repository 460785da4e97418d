"""Input channels of the project, shaped like rasa/core/channels/."""
