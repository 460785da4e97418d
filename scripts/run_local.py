"""`make run` and `make shell`: the assistant on this machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from types import FrameType

from scripts.stack import BIN, ROOT, Stack, quiet_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    stack = Stack()
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
            "Press Ctrl-C to stop.\n",
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
