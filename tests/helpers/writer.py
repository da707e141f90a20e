"""A tracker writer for the reliability tests: `writer.py PROJECT NAME COUNT`.

Writes COUNT changes through `Project`, each its own transaction, and prints `ack EVENT_ID ITEM
AFTER` only after the commit returned: every printed line is an acknowledged write.
"""

from __future__ import annotations

import os
import sys

from deliverables import Project


def main() -> int:
    root, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    project = Project.open(root, actor=f"{name} <{name}@example.com>")
    items = [item.id for item in project.model.items]
    for n in range(count):
        item = items[n % len(items)]
        note = f"{name}-{os.getpid()}-{n}"  # unique, so every write is a change
        events = project.set_item(item, note=note)
        print(f"ack {events[0].id} {item} {note}", flush=True)
    project.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
