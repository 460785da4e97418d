"""Tools for trainers: the inbox of missed questions, labelling, content checks and the report."""
