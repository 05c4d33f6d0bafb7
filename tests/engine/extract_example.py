#!/usr/bin/env python3
"""Writes the usage example at the top of a public header (the indented block after
"// Example") as a C++ file, so that the test suite compiles exactly what the header shows."""
import sys


def example(header_text):
    lines = header_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("// Example"))
    code = []
    for line in lines[start + 1:]:
        if line.startswith("//     "):
            code.append(line[len("//     "):])
        elif line.rstrip() == "//":
            code.append("")
        else:
            break
    return "\n".join(code).strip() + "\n"


if __name__ == "__main__":
    header, out = sys.argv[1], sys.argv[2]
    with open(header, encoding="utf-8") as f:
        text = example(f.read())
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
