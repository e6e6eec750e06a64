#!/usr/bin/env python3
"""func-lengths.py - the longest C functions, in lines from the first line of
the signature to the closing brace (comments and blank lines inside count).

    python3 scripts/func-lengths.py [--top N] FILE...
    python3 scripts/func-lengths.py src/*/*.c ports/*/*.c examples/cli/*.c

A function is found the way this repository writes them: a signature that
starts in column 0, its body's braces in column 0. Declarations, structs and
initialisers are not counted. For a review, not a gate.
"""
import re
import sys


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("{"):
            j = i - 1
            while j > 0 and lines[j].startswith((" ", "\t")):
                j -= 1  # the signature's continuation lines
            sig = " ".join(x.strip() for x in lines[j:i])
            m = re.search(r"([A-Za-z_]\w*)\s*\(", sig)
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            if m and not sig.startswith(("struct", "enum", "union", "typedef")) \
                    and "=" not in sig.split("(")[0]:
                yield k - j + 1, m.group(1)
            i = k + 1
        else:
            i += 1


def main(argv):
    top = 20
    if len(argv) > 1 and argv[0] == "--top":
        top, argv = int(argv[1]), argv[2:]
    rows = [(n, "%s:%s" % (p, f)) for p in argv for n, f in functions(p)]
    for n, where in sorted(rows, reverse=True)[:top]:
        print("%5d %s" % (n, where))


if __name__ == "__main__":
    main(sys.argv[1:])
