#!/usr/bin/env python3
"""Writes a deterministic text for token-file tests: a walk over 20 words, each chosen
from 4 successors of the previous one by random.Random(7) (Mersenne Twister, the same
stream on every Python 3), 40000 words (228438 bytes).

  make-text.py OUT.txt
"""
import random
import sys

words = ("the a scale amax of gradient weight tensor step loss row block model layer "
         "train float eight bits history delayed").split()
rng = random.Random(7)
state, text = 0, []
for _ in range(40000):
    state = (state * 3 + rng.randrange(4)) % len(words)
    text.append(words[state])
with open(sys.argv[1], "w") as f:
    f.write(" ".join(text) + "\n")
