#!/usr/bin/env python3
"""Checks the library layering of docs/design.md and the size limits.

Each library folder may include headers only from itself and the folders
below it (LAYERS); a source file of a library may hold at most 500 lines
unless its first line says why (a comment containing "long file:").
Exit 1 with one line per violation. Usage: check-layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# folder -> folders it may include (besides itself). Keep in step with
# docs/design.md and the target_link_libraries of each CMakeLists.txt.
LAYERS = {
    "core": set(),
    "graph": {"core"},
    "synth": {"core"},
    "stream": {"core"},
    "walk": {"core", "graph"},
    "embed": {"core", "graph", "walk"},
    "recall": {"core", "graph", "walk", "embed"},
    "ranking": {"core", "graph", "walk", "embed"},
    "eval": {"core", "graph", "walk", "embed", "recall", "ranking"},
    "dist": {"core", "graph", "walk", "embed", "recall", "version"},
    "version": {"core", "graph", "walk", "embed", "recall", "ranking"},
    "pipeline": {"core", "graph", "stream", "walk", "embed", "recall", "ranking", "eval", "version"},
    "service": {"core", "graph", "stream", "walk", "embed", "recall", "ranking", "version", "proto"},
    "apps": {"core", "graph", "synth", "stream", "walk", "embed", "recall", "ranking", "eval", "version",
             "pipeline", "proto", "service", "dist"},
    # libFuzzer targets: the readers below the service, and the CLI's config file expansion.
    "fuzz": {"core", "graph", "stream", "walk", "embed", "recall", "ranking", "version", "apps"},
}
MAX_LINES = 500
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems = []
    for folder, allowed in LAYERS.items():
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".h", ".cc"):
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                match = INCLUDE.match(line)
                if match and match.group(1) != folder and match.group(1) not in allowed:
                    problems.append(f"{path.relative_to(root)}:{number}: {folder}/ includes "
                                    f"{match.group(1)}/, which is not below it")
            if folder not in ("apps", "fuzz") and len(lines) > MAX_LINES and "long file:" not in lines[0]:
                problems.append(f"{path.relative_to(root)}: {len(lines)} lines (limit {MAX_LINES})")
    for problem in problems:
        print(problem)
    print(f"layering: {len(LAYERS)} libraries checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
