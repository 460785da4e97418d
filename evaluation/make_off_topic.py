"""Write the templated part of the off-topic evaluation set (data/off_topic/<domain>.txt).

Evaluation data only: never train on it, never copy its sentences into data/. The templates live in
evaluation/off_topic_templates.yml and were written apart from the training data; the hand-written
part (<domain>.handwritten.txt) is not touched here, but no generated line repeats one of its lines.

Deterministic: the same seed and templates give the same files.
Run: .venv/bin/python evaluation/make_off_topic.py
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Dict, List, Set

import yaml

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "off_topic_templates.yml"
OUT_DIR = HERE / "data" / "off_topic"
SEED = 20261206
PER_DOMAIN = 46
ATTEMPTS = 4000
SLOT = re.compile(r"\{([a-z0-9_]+)\}")
# Sentences tests/test_evaluation_data.py found verbatim in the training data: never emitted.
AVOID = {"love ur posts", "how do i get verified on instagram", "can dogs eat grapes"}

# How people shorten words in DMs; applied to whole words only.
SLANG = {"you": "u", "your": "ur", "are": "r", "please": "pls", "because": "cos",
         "tomorrow": "tmrw", "what's": "whats", "don't": "dont", "i'm": "im", "thanks": "thx",
         "really": "rly"}  # fmt: skip
EMOJI = ["😂", "🙏", "😭", "👀", "🤔", "😅", "❤️", "😩", "🙃", "👍"]
OPENERS = ["hey ", "hiya, ", "quick q - ", "sorry to bother u but ", "random but ", "ok so "]
CLOSERS = ["??", " lol", " x", " haha", "...", " thanks in advance"]


def normalise(text: str) -> str:
    """The comparison key for duplicates: case-insensitive, whitespace-normalised."""
    return " ".join(text.lower().split())


def fill(template: str, slots: Dict[str, List[str]], rng: random.Random) -> str:
    return SLOT.sub(lambda match: str(rng.choice(slots[match.group(1)])), template)


def typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters inside one longer word, as thumbs do."""
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) > 4 and word.isalpha()]
    if not candidates:
        return text
    index = rng.choice(candidates)
    word = words[index]
    cut = rng.randrange(1, len(word) - 2)
    words[index] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
    return " ".join(words)


def slangify(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        return SLANG.get(match.group(0).lower(), match.group(0))

    return re.sub(r"[A-Za-z']+", swap, text)


def style(text: str, rng: random.Random) -> str:
    """Give a clean template sentence one of the registers people DM in (or leave it formal)."""
    if rng.random() < 0.2:
        return text[0].upper() + text[1:]
    if rng.random() < 0.5:
        text = text.lower()
    if rng.random() < 0.3:
        text = text.rstrip("?!.")
    if rng.random() < 0.25:
        text = slangify(text)
    if rng.random() < 0.15:
        text = typo(text, rng)
    if rng.random() < 0.1:
        text = rng.choice(OPENERS) + text
    if rng.random() < 0.1:
        text = text + rng.choice(CLOSERS)
    if rng.random() < 0.15:
        text = text + " " + rng.choice(EMOJI)
    return text


def generate_domain(
    name: str, spec: Dict[str, object], taken: Set[str], count: int, seed: int
) -> List[str]:
    """Up to `count` styled messages for one domain, none repeating a key already in `taken`."""
    rng = random.Random(f"{seed}:{name}")
    templates: List[str] = list(spec["templates"])  # type: ignore[call-overload]
    slots: Dict[str, List[str]] = dict(spec.get("slots") or {})  # type: ignore[call-overload]
    bases: Set[str] = set()
    lines: List[str] = []
    for _ in range(ATTEMPTS):
        if len(lines) >= count:
            break
        base = fill(rng.choice(templates), slots, rng)
        if normalise(base) in bases:
            continue
        bases.add(normalise(base))
        message = style(base, rng).strip()
        if normalise(message) in taken or normalise(message) in AVOID:
            continue
        taken.add(normalise(message))
        lines.append(message)
    return lines


def handwritten_keys(out_dir: Path) -> Set[str]:
    keys: Set[str] = set()
    for path in sorted(out_dir.glob("*.handwritten.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        keys |= {normalise(line) for line in lines if line.strip()}
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-domain", type=int, default=PER_DOMAIN)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    domains = yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    taken = handwritten_keys(args.out)
    total = 0
    for name in sorted(domains):
        lines = generate_domain(name, domains[name], taken, args.per_domain, args.seed)
        (args.out / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        total += len(lines)
        print(f"{name}: {len(lines)}")
    print(f"{total} templated messages over {len(domains)} domains in {args.out}")


if __name__ == "__main__":
    main()
