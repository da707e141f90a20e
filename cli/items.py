"""Checklist items, deliverables and their documents: `item`, `deliverable`, `adr`."""

from __future__ import annotations

import argparse

from cli.common import (
    deliverable_status,
    item_status,
    open_project,
    positive_int,
    print_json,
    usage,
)


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the item, deliverable and ADR commands."""
    item = commands.add_parser("item", help="change a checklist item").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = item.add_parser("set", help="set status, owner, due date or note of an item")
    cmd.add_argument("id", help="item id, e.g. 1.1.1")
    cmd.add_argument(
        "--status",
        type=item_status,
        help="todo | done | not_applicable | blocked (both need --reason)",
    )
    cmd.add_argument("--reason", help="why the item does not apply, or what blocks it")
    cmd.add_argument("--owner", help="who owns it ('' clears)")
    cmd.add_argument("--due", help="YYYY-MM-DD ('' clears)")
    cmd.add_argument("--note", help="a note ('' clears)")
    cmd.set_defaults(run=_item_set)

    deliv = commands.add_parser("deliverable", help="change a deliverable").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = deliv.add_parser("set", help="set status or owner of a deliverable")
    cmd.add_argument("id", help="deliverable id, e.g. D1.1")
    cmd.add_argument(
        "--status",
        type=deliverable_status,
        help="missing | draft | in_review | approved | not_applicable",
    )
    cmd.add_argument("--reason", help="why the deliverable does not apply")
    cmd.add_argument("--owner", help="who owns it ('' clears)")
    cmd.add_argument(
        "--path",
        dest="document_path",  # not `path`: that is the project folder of `open`/`init`
        help="its document, relative to the project ('' resets); the folder may not exist yet",
    )
    cmd.set_defaults(run=_deliverable_set)
    cmd = deliv.add_parser("create", help="write the deliverable's document from its template")
    cmd.add_argument("id", help="deliverable id, e.g. D1.1")
    cmd.set_defaults(run=_deliverable_create)
    cmd = deliv.add_parser("facts", help="what git knows of each deliverable, and suggestions")
    cmd.add_argument("ids", nargs="*", metavar="ID", help="default: every deliverable")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_deliverable_facts)

    adr = commands.add_parser(
        "adr", help="Technology Decision Records (MADR) in docs/adr/"
    ).add_subparsers(metavar="ACTION", required=True)
    cmd = adr.add_parser("new", help="a new record, status proposed")
    cmd.add_argument("title")
    cmd.set_defaults(run=_adr_new)
    cmd = adr.add_parser("list", help="every record with its status")
    cmd.set_defaults(run=_adr_list)
    cmd = adr.add_parser("status", help="set a record's status")
    cmd.add_argument("number", type=positive_int)
    cmd.add_argument("status", help="proposed | accepted | rejected | deprecated | superseded")
    cmd.add_argument("--by", type=positive_int, metavar="N", help="the ADR that supersedes it")
    cmd.set_defaults(run=_adr_status)


def _item_set(args: argparse.Namespace) -> int:
    fields = {k: getattr(args, k) for k in ("status", "reason", "owner", "due", "note")}
    if all(v is None for v in fields.values()):
        return usage("item set: give at least one of --status, --reason, --owner, --due, --note")
    project = open_project(args)
    events = project.set_item(args.id, **fields)
    _report_changes(project.item(args.id).id, events)
    return 0


def _deliverable_set(args: argparse.Namespace) -> int:
    fields = {k: getattr(args, k) for k in ("status", "reason", "owner")}
    fields["path"] = args.document_path
    if all(v is None for v in fields.values()):
        return usage("deliverable set: give at least one of --status, --reason, --owner, --path")
    project = open_project(args)
    events = project.set_deliverable(args.id, **fields)
    _report_changes(project.deliverable(args.id).id, events)
    return 0


def _deliverable_create(args: argparse.Namespace) -> int:
    from deliverables.documents import create_document

    project = open_project(args)
    path = create_document(project, args.id)
    deliverable = project.deliverable(args.id)
    status = project.deliverable_state(deliverable.id).status
    print(f"Wrote {path.relative_to(project.root)} ({deliverable.id} is {status})")
    return 0


def _deliverable_facts(args: argparse.Namespace) -> int:
    from deliverables.documents import ADR_DELIVERABLE, adrs, document_facts, git_summary

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import facts_document

        print_json(facts_document(project, args.ids))
        return 0
    ids = args.ids or [d.id for d in project.model.deliverables]
    facts = [document_facts(project, ident) for ident in ids]
    for f in facts:
        where = git_summary(f.git) or "no file"
        print(f"{f.deliverable.id:<6} {f.status:<14} {f.path}: {where}")
        for suggestion in f.suggestions:
            print(f"       suggest: {suggestion}")
        if f.deliverable.id == ADR_DELIVERABLE:
            for record in adrs(project):
                print(f"       ADR {record.number:04d} {record.title} ({record.status})")
    return 0


def _adr_new(args: argparse.Namespace) -> int:
    from deliverables.documents import new_adr

    project = open_project(args)
    path = new_adr(project, args.title)
    print(f"Wrote {path.relative_to(project.root)} (status: proposed)")
    return 0


def _adr_list(args: argparse.Namespace) -> int:
    from deliverables.documents import adrs

    found = adrs(open_project(args))
    if not found:
        print('no decision records yet: phasegate adr new "title"')
    for a in found:
        print(f"{a.number:04d}  {a.status:<40} {a.title}")
    return 0


def _adr_status(args: argparse.Namespace) -> int:
    from deliverables.documents import set_adr_status

    record = set_adr_status(open_project(args), args.number, args.status, args.by)
    print(f"ADR {record.number:04d}: {record.status}")
    return 0


def _report_changes(subject: str, events: list) -> None:
    if not events:
        print(f"{subject}: already so; nothing changed")
    for event in events:
        print(f"{subject}: {event.field} {event.before or '—'} → {event.after or '—'}")
