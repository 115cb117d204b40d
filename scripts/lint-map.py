#!/usr/bin/env python3
"""Keeps the map true (docs/architecture.md, "The house"), run by the lint
part of scripts/test.sh; prints each finding and exits 1 when there is one:
  - a pointer `docs/X.md "Section"` (or `X.md, "Section"`) in a tracked file
    names a heading of docs/X.md: its title, with or without the
    parenthetical that ends it ("UDP" names "UDP (version 1.2)");
  - the README's layout names every room of service/ (`service/NAME/`);
  - docs/architecture.md's house names every unit of service/ (each .h/.cpp
    by its name) and every room;
  - no unit of service/ is over 450 lines.
"""
import os
import re
import subprocess
import sys

MAX_UNIT_LINES = 450

def tracked():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], capture_output=True, text=True, check=True).stdout
    return [f for f in out.split("\n") if f and os.path.exists(f)]

def norm(text):
    return re.sub(r"\s+", " ", text.replace("`", "")).strip().lower()

def main():
    files = tracked()
    findings = []
    headings = {}
    for f in files:
        if f.startswith("docs/") and f.endswith(".md"):
            with open(f, encoding="utf-8") as doc:
                headings[os.path.basename(f)] = [norm(m.group(1)) for m in re.finditer(r"^#+\s+(.*?)\s*$", doc.read(), re.M)]
    pointer = re.compile(r'(?:docs/)?([a-z][a-z-]*\.md)\)?,?\s+"([^"]+)"')
    for f in files:
        if not re.search(r"\.(cpp|h|md|sh|py|ya?ml|properties|go)$", f) and os.path.basename(f) != "Dockerfile":
            continue
        with open(f, encoding="utf-8", errors="replace") as source:
            text = source.read()
        for m in pointer.finditer(text):
            doc, section = m.group(1), re.sub(r"\n\s*(///?|#)\s*", " ", m.group(2))
            if doc not in headings:
                continue
            wanted = norm(section)
            if not any(h == wanted or h.startswith(wanted + " (") for h in headings[doc]):
                line = text.count("\n", 0, m.start()) + 1
                findings.append(f'{f}:{line}: {doc} "{section}" names no section of docs/{doc}')
    rooms = sorted({f.split("/")[1] for f in files if f.startswith("service/") and f.count("/") >= 2})
    units = sorted({os.path.splitext(os.path.basename(f))[0] for f in files
                    if f.startswith("service/") and f.endswith((".h", ".cpp"))})
    with open("README.md", encoding="utf-8") as readme:
        readme_text = readme.read()
    with open("docs/architecture.md", encoding="utf-8") as arch:
        arch_text = arch.read()
    house = arch_text.split("## The house", 1)[-1].split("\n## ", 1)[0]
    for room in rooms:
        if f"service/{room}/" not in readme_text and f"  {room}/" not in readme_text:
            findings.append(f"README.md: the layout does not name the room service/{room}/")
        if f"{room}/" not in house:
            findings.append(f'docs/architecture.md "The house" does not name the room service/{room}/')
    for unit in units:
        if not re.search(r"\b" + re.escape(unit) + r"\b", house):
            findings.append(f'docs/architecture.md "The house" does not name the unit {unit} (service/)')
    for f in files:
        if f.startswith("service/") and f.endswith((".h", ".cpp")):
            with open(f, encoding="utf-8") as unit_file:
                lines = sum(1 for _ in unit_file)
            if lines > MAX_UNIT_LINES:
                findings.append(f"{f}: {lines} lines, over the {MAX_UNIT_LINES} a unit may have")
    for finding in findings:
        print(finding)
    return 1 if findings else 0

if __name__ == "__main__":
    sys.exit(main())
