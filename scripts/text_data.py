"""text_data.py - the runtime's text data (runtime/text.c) in Python, for PyTorch references.

A PyTorch model compared with an nnc model trained on `text(...)` must see the same characters
under the same ids in the same windows; this module reproduces them:

    import text_data
    text = text_data.read()                        # fortunes-es, as `text` without a file
    text = text_data.read("corpus.txt")            # a file, as text("corpus.txt")
    vocab = text_data.vocabulary(text, V)          # as training builds it for an output of V ids
    ids = text_data.encode(text, vocab)            # id 0: unknown, i + 1: vocab[i]
    x, y = text_data.windows(ids, T, stride)       # int32 [n, T] inputs and next ids
    train, val = text_data.split(len(x), T, stride, 0.1)   # index ranges of --val-split 0.1

    python3 scripts/text_data.py [FILE] --seq 128 [--stride S] [--vocab-size V]   # prints a summary

The rules (docs/language.md [train.data.text], [text.vocab]): UTF-8, a leading byte-order mark
skipped; fortunes-es is /usr/share/games/fortunes/es/*.fortunes in name order with each line that
is just '%' made an empty line; the vocabulary is the text's characters in code point order, or,
when more than V - 1, the V - 1 most frequent (ties: lower code point) in code point order; window
i is ids[i*S : i*S+T] -> ids[i*S+1 : i*S+T+1]; a validation split holds out the last
floor(n * F) windows and leaves out the ceil(T / S) - 1 before them.
"""
import collections
import glob
import os
import sys

import numpy as np

FORTUNES_DIR = "/usr/share/games/fortunes/es"


def read(path=None):
    """The text as the runtime reads it: a file, or fortunes-es when path is None."""
    if path is not None:
        t = open(path, "rb").read().decode("utf-8")
        return t[1:] if t.startswith("\ufeff") else t
    out = []
    for f in sorted(glob.glob(os.path.join(FORTUNES_DIR, "*.fortunes"))):
        raw = open(f, "rb").read()
        lines = raw.split(b"\n")
        body = b"\n".join(b"" if ln in (b"%",) else ln for ln in lines)
        if body and not body.endswith(b"\n"):
            body += b"\n"
        out.append(body)
    t = b"".join(out).decode("utf-8")
    return t[1:] if t.startswith("\ufeff") else t


def vocabulary(text, V):
    """The characters of ids 1..n (a string in code point order)."""
    count = collections.Counter(text)
    if len(count) + 1 <= V:
        return "".join(sorted(count))
    keep = sorted(count.items(), key=lambda kv: (-kv[1], ord(kv[0])))[:V - 1]
    return "".join(sorted(ch for ch, _ in keep))


def encode(text, vocab):
    index = {ch: i + 1 for i, ch in enumerate(vocab)}
    return np.array([index.get(ch, 0) for ch in text], dtype=np.int32)


def windows(ids, T, stride=None):
    S = stride or T
    n = (len(ids) - 1 - T) // S + 1
    if n < 1:
        raise ValueError("the text holds %d characters, one window needs %d" % (len(ids), T + 1))
    starts = np.arange(n) * S
    x = np.stack([ids[s:s + T] for s in starts])
    y = np.stack([ids[s + 1:s + T + 1] for s in starts])
    return x, y


def split(n, T, stride, fraction):
    """(train, validation) index ranges of --val-split fraction over n windows."""
    S = stride or T
    nval = int(np.floor(n * fraction))
    gap = (T + S - 1) // S - 1 if nval > 0 else 0
    return range(0, n - nval - gap), range(n - nval, n)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--stride", type=int, default=0)
    ap.add_argument("--vocab-size", type=int, default=1 << 30)
    a = ap.parse_args(argv)
    t = read(a.file)
    vocab = vocabulary(t, a.vocab_size)
    x, _ = windows(encode(t, vocab), a.seq, a.stride)
    print("%d characters, %d distinct, vocabulary of %d, %d windows of %d" %
          (len(t), len(set(t)), len(vocab), len(x), a.seq))


if __name__ == "__main__":
    main(sys.argv[1:])
