"""`python -m bench.patched_server <patches to leave out> run ...`: the Rasa server as
`python -m rasa_server` starts it, without the named speed-only patches (comma-separated,
may be empty). For bench/patches.py's A/B only; production always installs every patch.
"""

from __future__ import annotations

import sys

from rasa_server.__main__ import main as rasa_server_main

if __name__ == "__main__":
    without = [name for name in sys.argv[1].split(",") if name]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    rasa_server_main(without=without)
