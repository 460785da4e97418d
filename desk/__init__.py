"""The recruiter desk: where recruiters take conversations the assistant hands over."""
