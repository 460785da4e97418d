"""`make run` and `make shell`: the assistant on this machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from scripts.stack import BIN, ROOT, Stack, quiet_env

INSTAGRAM_SECRETS = ("INSTAGRAM_VERIFY_TOKEN", "INSTAGRAM_APP_SECRET", "INSTAGRAM_ACCESS_TOKEN")


def credentials_for_run() -> tuple[Path, bool]:
    """credentials.yml, plus the Instagram channel when its secrets are set."""
    if not all(os.environ.get(name) for name in INSTAGRAM_SECRETS):
        return ROOT / "credentials.yml", False
    path = ROOT / "var" / "credentials.run.yml"
    text = (ROOT / "credentials.yml").read_text(encoding="utf-8")
    path.write_text(text + "\nchannels.instagram.InstagramInput:\n", encoding="utf-8")
    return path, True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    credentials, instagram = credentials_for_run()
    stack = Stack(credentials=credentials)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        if args.shell:
            stack.start_action_server()
            return subprocess.call(
                [str(BIN / "rasa"), "shell", "--model", "models", "--endpoints", "endpoints.yml"],
                cwd=ROOT,
                env=quiet_env(),
            )
        print(
            "Starting the action server and the Rasa server (loading the model takes a moment)..."
        )
        stack.start()
        stack.start_desk()
        print(
            "\nThe careers assistant is running.\n"
            f"  Web chat:      {stack.webchat_url}\n"
            f"  REST channel:  POST {stack.url}/webhooks/rest/webhook "
            '{"sender": "me", "message": "hello"}\n'
            f"  HTTP API:      {stack.url} (token in RASA_TOKEN, or in var/rasa_token)\n"
            f"  Recruiter desk: {stack.desk_url}/ (add an account first: "
            ".venv/bin/python -m desk create-user NAME)\n"
            + (
                f"  Instagram:     webhook at {stack.url}/webhooks/instagram/webhook\n"
                if instagram
                else "  Instagram:     off (set INSTAGRAM_VERIFY_TOKEN, INSTAGRAM_APP_SECRET and "
                "INSTAGRAM_ACCESS_TOKEN to enable it)\n"
            )
            + "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while all(process.poll() is None for process in stack.processes):
            time.sleep(1)
        print("A server stopped unexpectedly; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...")
        return 0
    finally:
        stack.stop()


def _stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
