"""A small text corpus for sequence-model examples: ``tiny_tales``.

No public-domain literary text ships with the machines this library is built
on, so the corpus is synthetic: short animal tales drawn from a small
probabilistic grammar (names, animals, places, things, a few sentence
patterns with agreement of pronouns and names across a tale), written by
``make_tiny_tales`` with a fixed seed and shipped gzipped as
``tiny_tales.txt.gz`` (about 300 kB of text).  It has structure at every
scale a character model can learn -- spelling, punctuation, capitals after a
full stop, quotes, names that recur within a tale -- and is free of any
licence.
"""
import gzip
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(_HERE, "tiny_tales.txt.gz")

NAMES = ["Ana", "Bo", "Cato", "Dina", "Eli", "Fen", "Gus", "Hana", "Ivo", "Juno", "Kit",
         "Lumi", "Milo", "Nell", "Oren", "Pia"]
ANIMALS = ["fox", "owl", "hare", "wolf", "crow", "cat", "goat", "mole", "bear", "duck",
           "mouse", "badger"]
ADJS = ["old", "little", "brave", "quiet", "clever", "tired", "hungry", "happy", "shy",
        "grumpy", "gentle", "curious"]
PLACES = ["the river", "the old mill", "the dark forest", "the green hill", "the market",
          "the garden", "the deep well", "the stone bridge", "the meadow", "the harbour"]
THINGS = ["a red apple", "a silver key", "a loaf of bread", "a small lantern", "an old map",
          "a blue feather", "a wooden flute", "a jar of honey", "a warm scarf", "a round stone"]
MOVES = ["walked", "ran", "hurried", "wandered", "hopped", "climbed"]
FEELS = ["smiled", "laughed", "cried with joy", "danced", "sang a song", "said thank you"]
WEATHER = ["The rain fell all day.", "The wind was cold.", "The sun was bright and warm.",
           "Snow covered the ground.", "Fog lay over the fields."]
SAYS = ["Where are you going?", "I am so hungry today.", "Look what I found!",
        "Can you help me?", "Let us go together.", "It is getting late.",
        "What a lovely day it is."]


def _quote(q):
    """A spoken sentence as it stands before "said": a full stop becomes a comma."""
    return q[:-1] + "," if q.endswith(".") else q


def _tale(r):
    pick = lambda xs: xs[r.integers(len(xs))]  # noqa: E731
    a, b = r.choice(len(NAMES), 2, replace=False)
    hero, friend = NAMES[a], NAMES[b]
    adj, animal, animal2 = pick(ADJS), pick(ANIMALS), pick(ANIMALS)
    thing, place, place2 = pick(THINGS), pick(PLACES), pick(PLACES)
    s = [f"The {adj.capitalize()} {animal.capitalize()}", "",
         f"{hero} the {adj} {animal} lived near {place}."]
    if r.random() < 0.5:
        s.append(pick(WEATHER))
    s.append(f"One morning, {hero} {pick(MOVES)} to {place2}.")
    s.append(f"There {hero} met {friend} the {animal2}.")
    s.append(f"\"{_quote(pick(SAYS))}\" said {friend}.")
    if r.random() < 0.6:
        s.append(f"\"{_quote(pick(SAYS))}\" said {hero}.")
    s.append(f"Under a tree they found {thing}.")
    s.append(f"{hero} gave {thing} to {friend}, and {friend} {pick(FEELS)}.")
    if r.random() < 0.5:
        s.append(f"Then the two friends {pick(MOVES)} back to {place}.")
    s.append(f"When the sun went down, {hero} and {friend} went home.")
    return s[0] + "\n\n" + " ".join(s[2:]) + "\n"


def make_tiny_tales(n_chars=300_000, seed=0):
    """Tales from the grammar until at least ``n_chars`` characters."""
    r = np.random.default_rng(seed)
    parts, n = [], 0
    while n < n_chars:
        t = _tale(r)
        parts.append(t)
        n += len(t) + 1
    return "\n".join(parts)


def load_tiny_tales():
    """The shipped corpus as one string (about 300 kB)."""
    with gzip.open(PATH, "rt", encoding="utf-8") as f:
        return f.read()


if __name__ == "__main__":  # regenerate the shipped file
    with gzip.open(PATH, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(make_tiny_tales())
