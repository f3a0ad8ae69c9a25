# corpus.py OUT: the small Spanish UTF-8 text of tests/e2e/text*.sh (n with tilde, accents,
# inverted marks), 300 lines of 4 to 9 words drawn with a fixed seed.
import random
import sys

random.seed(1)
words = ["el", "niño", "señor", "año", "¿qué", "¡hola", "canción", "mañana", "está", "corazón", "la", "de",
         "y", "que", "en", "sueño", "pequeña", "árbol", "día", "¿dónde?", "¡olé!"]
lines = []
for _ in range(300):
    lines.append(" ".join(random.choice(words) for _ in range(random.randint(4, 9))))
open(sys.argv[1], "w", encoding="utf-8").write("\n".join(lines) + "\n")
