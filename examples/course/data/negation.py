"""negation.py - one review of the negation sentiment task (make_data2.py's negation.csv and
make_data4.py's negation_large.csv): 12 token ids, 0 pads at the end; words 1-4 positive, 5-8
negative, 9 "not" flipping the word right after it, 10-29 neutral. A review holds one sentiment
word (perhaps after "not") among neutral ones, and "not" also appears before neutral words, so the
count of "not" says nothing: label 1 when the review is positive."""


def review(rng):
    """(12 ids, label), or None when the sentiment word was cut off (rng advanced either way)."""
    n = int(rng.integers(6, 13))
    words = list(rng.integers(10, 30, n))
    pos = int(rng.integers(0, n - 1))
    good = bool(rng.integers(0, 2))
    words[pos] = int(rng.integers(1, 5)) if good else int(rng.integers(5, 9))
    if bool(rng.integers(0, 2)):
        words.insert(pos, 9)
    else:  # a "not" before some neutral word
        q = int(rng.integers(0, len(words)))
        if words[q] >= 10:
            words.insert(q, 9)
    words = words[:12]
    if 9 in words and words.index(9) == len(words) - 1:
        words[-1] = 10
    # the sentiment word might have been cut off: recompute the label from what is left
    lab = None
    for i, w in enumerate(words):
        if 1 <= w <= 8:
            p = w <= 4
            if i > 0 and words[i - 1] == 9:
                p = not p
            lab = int(p)
    if lab is None:
        return None
    return words + [0] * (12 - len(words)), lab
