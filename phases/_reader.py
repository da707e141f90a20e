"""Reads process YAML into the model, with file:line:field errors for every mistake.

Only `phases.loader` imports this module, and only when YAML really has to be read: the default
process is served from a cache keyed by its content, so start-up does not pay for PyYAML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from phases.errors import ProcessError
from phases.model import (
    GATE_KINDS,
    Assist,
    ChecklistItem,
    Deliverable,
    DeliverablePart,
    GateCriterion,
    Phase,
    ProcessModel,
    SubPhase,
    slugify,
)
from phases.yamldoc import ID, YamlDoc, is_null


def read_default(path: Path) -> _Draft:
    return _Draft.from_default(YamlDoc.read(path, ProcessError))


def apply_overlay(model: ProcessModel, overlay: Path) -> ProcessModel:
    draft = _Draft.from_model(model)
    draft.apply_overlay(YamlDoc.read(overlay, ProcessError))
    return draft.freeze((*model.sources, str(overlay)))


# --- a mutable draft that the default builds and an overlay edits ----------------------------


@dataclass(frozen=True)
class _Section:
    """What an overlay section holds: `items` are items under a `sub_phase`, and so on."""

    name: str
    noun: str
    parent: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


@dataclass
class _DraftSub:
    id: str
    title: str
    intro: str = ""
    items: list[ChecklistItem] = field(default_factory=list)
    assists: list[Assist] = field(default_factory=list)


@dataclass
class _DraftPhase:
    id: str
    title: str
    subs: list[_DraftSub] = field(default_factory=list)
    deliverables: list[Deliverable] = field(default_factory=list)
    gate: list[GateCriterion] = field(default_factory=list)


@dataclass
class _Draft:
    title: str
    assist_prompt: str
    phases: list[_DraftPhase]

    # ids of every kind share one namespace, so `phasegate item set D1.1` can say what D1.1 is
    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        for phase in self.phases:
            ids.add(phase.id)
            ids.update(g.id for g in phase.gate)
            ids.update(d.id for d in phase.deliverables)
            for sub in phase.subs:
                ids.add(sub.id)
                ids.update(i.id for i in sub.items)
                ids.update(a.id for a in sub.assists)
        return ids

    @classmethod
    def from_model(cls, model: ProcessModel) -> _Draft:
        """A draft of an existing model, for an overlay to edit."""
        return cls(
            model.title,
            model.assist_prompt,
            [
                _DraftPhase(
                    p.id,
                    p.title,
                    [
                        _DraftSub(s.id, s.title, s.intro, list(s.items), list(s.assists))
                        for s in p.sub_phases
                    ],
                    list(p.deliverables),
                    list(p.gate),
                )
                for p in model.phases
            ],
        )

    @classmethod
    def from_default(cls, doc: YamlDoc) -> _Draft:
        if doc.root is None:
            raise doc.fail(None, "", "the file is empty")
        top = doc.mapping(doc.root, "", ("version", "title", "assist_prompt", "phases"))
        draft = cls(
            doc.text(top["title"], "title"), doc.text(top["assist_prompt"], "assist_prompt"), []
        )
        seen: dict[str, str] = {}

        def claim(node: yaml.Node, where: str) -> str:
            ident = doc.ident(node, where)
            if ident in seen:
                raise doc.fail(node, where, f"id {ident!r} is already used at {seen[ident]}")
            seen[ident] = where
            return ident

        for p_index, p_node in enumerate(doc.sequence(top["phases"], "phases")):
            pw = f"phases[{p_index}]"
            p = doc.mapping(p_node, pw, ("id", "title", "sub_phases", "deliverables", "gate"))
            phase = _DraftPhase(claim(p["id"], f"{pw}.id"), doc.text(p["title"], f"{pw}.title"))
            if not phase.id.isdigit():
                raise doc.fail(p["id"], f"{pw}.id", "phase ids are numbers: 1, 2, ...")
            for s_index, s_node in enumerate(doc.sequence(p["sub_phases"], f"{pw}.sub_phases")):
                sw = f"{pw}.sub_phases[{s_index}]"
                s = doc.mapping(s_node, sw, ("id", "title", "items"), ("assists", "intro"))
                sub = _DraftSub(claim(s["id"], f"{sw}.id"), doc.text(s["title"], f"{sw}.title"))
                if "intro" in s:
                    sub.intro = doc.text(s["intro"], f"{sw}.intro")
                for i_index, i_node in enumerate(doc.sequence(s["items"], f"{sw}.items")):
                    iw = f"{sw}.items[{i_index}]"
                    i = doc.mapping(i_node, iw, ("id", "text"), ("optional",))
                    optional = (
                        doc.flag(i["optional"], f"{iw}.optional") if "optional" in i else False
                    )
                    sub.items.append(
                        ChecklistItem(
                            claim(i["id"], f"{iw}.id"),
                            doc.text(i["text"], f"{iw}.text"),
                            sub.id,
                            optional,
                        )
                    )
                for a_index, a_node in enumerate(doc.sequence(s.get("assists"), f"{sw}.assists")):
                    aw = f"{sw}.assists[{a_index}]"
                    a = doc.mapping(a_node, aw, ("id", "tool", "text"))
                    sub.assists.append(
                        Assist(
                            claim(a["id"], f"{aw}.id"),
                            doc.text(a["tool"], f"{aw}.tool"),
                            doc.text(a["text"], f"{aw}.text"),
                            sub.id,
                        )
                    )
                phase.subs.append(sub)
            for d_index, d_node in enumerate(doc.sequence(p["deliverables"], f"{pw}.deliverables")):
                dw = f"{pw}.deliverables[{d_index}]"
                d = doc.mapping(d_node, dw, ("id", "title"), ("path", "parts", "optional"))
                phase.deliverables.append(
                    _deliverable(doc, d, dw, claim(d["id"], f"{dw}.id"), phase.id)
                )
            for g_index, g_node in enumerate(doc.sequence(p["gate"], f"{pw}.gate")):
                gw = f"{pw}.gate[{g_index}]"
                g = doc.mapping(g_node, gw, ("id", "kind", "text"))
                kind = doc.text(g["kind"], f"{gw}.kind")
                if kind not in GATE_KINDS:
                    raise doc.fail(
                        g["kind"],
                        f"{gw}.kind",
                        f"unknown kind (expected one of: {', '.join(GATE_KINDS)})",
                    )
                phase.gate.append(
                    GateCriterion(
                        claim(g["id"], f"{gw}.id"), kind, doc.text(g["text"], f"{gw}.text")
                    )
                )
            draft.phases.append(phase)
        if not draft.phases:
            raise doc.fail(top["phases"], "phases", "the process needs at least one phase")
        return draft

    def apply_overlay(self, doc: YamlDoc) -> None:
        """Applies a team's tailoring: rename, add, retire, reword, mark optional."""
        if doc.root is None or is_null(doc.root):
            return
        top = doc.mapping(
            doc.root,
            "",
            (),
            ("version", "phases", "sub_phases", "items", "deliverables", "assists"),
        )
        if "version" in top and doc.text(top["version"], "version") != "1":
            raise doc.fail(top["version"], "version", "this phasegate reads version 1 overlays")
        phases = {p.id: p for p in self.phases}
        subs = {s.id: (p, s) for p in self.phases for s in p.subs}
        existing = self.all_ids()

        for pid, key, node in doc.entries(top.get("phases"), "phases"):
            where = f"phases.{pid}"
            if pid not in phases:
                raise doc.fail(key, where, f"no phase {pid!r} (phases are {', '.join(phases)})")
            change = doc.mapping(node, where, (), ("title",))
            if "title" in change:
                phases[pid].title = doc.text(change["title"], f"{where}.title")

        for sid, key, node in doc.entries(top.get("sub_phases"), "sub_phases"):
            where = f"sub_phases.{sid}"
            if sid not in subs:
                raise doc.fail(key, where, f"no sub-phase {sid!r}")
            change = doc.mapping(node, where, (), ("title", "intro"))
            if "title" in change:
                subs[sid][1].title = doc.text(change["title"], f"{where}.title")
            if "intro" in change:
                subs[sid][1].intro = doc.text(change["intro"], f"{where}.intro")

        sub_lists = {sid: sub.items for sid, (_, sub) in subs.items()}
        phase_names = ", ".join(phases)

        def text(change, where, name):
            return doc.text(change[name], f"{where}.{name}")

        def flag(change, where, name, default):
            return doc.flag(change[name], f"{where}.{name}") if name in change else default

        self._edit(
            doc,
            top.get("items"),
            _Section("items", "item", "sub_phase", ("text",), ("optional",)),
            sub_lists,
            existing,
            lambda ident: f"no sub-phase {ident!r}",
            new=lambda change, where, ident, sid: ChecklistItem(
                ident, text(change, where, "text"), sid, flag(change, where, "optional", False)
            ),
            edit=lambda old, change, where: old._replace(
                text=text(change, where, "text") if "text" in change else old.text,
                optional=flag(change, where, "optional", old.optional),
            ),
        )

        def edit_deliverable(old, change, where):
            new = _deliverable(doc, change, where, old.id, old.phase_id)
            kept = {
                name: getattr(new if name in change else old, name)
                for name in ("title", "path", "parts", "optional")
            }
            return old._replace(**kept)

        self._edit(
            doc,
            top.get("deliverables"),
            _Section(
                "deliverables", "deliverable", "phase", ("title",), ("path", "parts", "optional")
            ),
            {pid: phase.deliverables for pid, phase in phases.items()},
            existing,
            lambda ident: f"no phase {ident!r} (phases are {phase_names})",
            new=lambda change, where, ident, pid: _deliverable(doc, change, where, ident, pid),
            edit=edit_deliverable,
        )
        self._edit(
            doc,
            top.get("assists"),
            _Section("assists", "assist", "sub_phase", ("text",), ("tool",)),
            {sid: sub.assists for sid, (_, sub) in subs.items()},
            existing,
            lambda ident: f"no sub-phase {ident!r}",
            new=lambda change, where, ident, sid: Assist(
                ident,
                text(change, where, "tool") if "tool" in change else "Claude",
                text(change, where, "text"),
                sid,
            ),
            edit=lambda old, change, where: old._replace(
                text=text(change, where, "text") if "text" in change else old.text,
                tool=text(change, where, "tool") if "tool" in change else old.tool,
            ),
        )

    @staticmethod
    def _edit(
        doc: YamlDoc,
        node: yaml.Node | None,
        section: _Section,
        lists: dict[str, list],
        existing: set[str],
        no_parent: Callable[[str], str],
        *,
        new: Callable[[dict[str, yaml.Node], str, str, str], object],
        edit: Callable[[object, dict[str, yaml.Node], str], object],
    ) -> None:
        """One overlay section: a known id is edited or retired, an unknown id is added under
        its parent (`lists` maps each parent id to the list that holds its entries)."""
        holder = {entry.id: entries for entries in lists.values() for entry in entries}
        keys = (section.parent, *section.required, *section.optional, "retired")
        for ident, key, value in doc.entries(node, section.name):
            where = f"{section.name}.{ident}"
            change = doc.mapping(value, where, (), keys)
            if ident in holder:
                entries = holder[ident]
                if section.parent in change:
                    raise doc.fail(
                        change[section.parent],
                        f"{where}.{section.parent}",
                        f"an existing {section.noun} cannot move; retire it and add a new one",
                    )
                index = next(n for n, entry in enumerate(entries) if entry.id == ident)
                if "retired" in change and doc.flag(change["retired"], f"{where}.retired"):
                    del entries[index]
                else:
                    entries[index] = edit(entries[index], change, where)
                continue
            _new_id(doc, key, where, ident, existing, section.noun)
            for needed in (section.parent, *section.required):
                if needed not in change:
                    raise doc.fail(
                        value,
                        f"{where}.{needed}",
                        f"missing (required to add {section.noun} {ident!r})",
                    )
            parent = doc.text(change[section.parent], f"{where}.{section.parent}")
            if parent not in lists:
                raise doc.fail(
                    change[section.parent], f"{where}.{section.parent}", no_parent(parent)
                )
            lists[parent].append(new(change, where, ident, parent))
            existing.add(ident)

    def freeze(self, sources: tuple[str, ...]) -> ProcessModel:
        phases = tuple(
            Phase(
                p.id,
                p.title,
                tuple(
                    SubPhase(s.id, s.title, tuple(s.items), tuple(s.assists), s.intro)
                    for s in p.subs
                ),
                tuple(p.deliverables),
                tuple(p.gate),
            )
            for p in self.phases
        )
        return ProcessModel(self.title, phases, self.assist_prompt, sources)


def _new_id(
    doc: YamlDoc, key: yaml.Node, where: str, ident: str, existing: set[str], kind: str
) -> None:
    if not ID.match(ident):
        raise doc.fail(key, where, f"{ident!r} is not a valid id (letters, digits, . _ -)")
    if ident in existing:
        raise doc.fail(
            key, where, f"id {ident!r} is already used by something that is not a {kind}"
        )


def _deliverable(
    doc: YamlDoc, d: dict[str, yaml.Node], where: str, ident: str, phase_id: str
) -> Deliverable:
    title = doc.text(d["title"], f"{where}.title") if "title" in d else ident
    path = (
        doc.text(d["path"], f"{where}.path")
        if "path" in d
        else f"docs/phase-{phase_id}/{slugify(title)}.md"
    )
    if path.startswith("/") or ".." in Path(path).parts:
        raise doc.fail(d["path"], f"{where}.path", "must be a relative path inside the repository")
    parts = []
    for n, part_node in enumerate(doc.sequence(d.get("parts"), f"{where}.parts")):
        pw = f"{where}.parts[{n}]"
        part = doc.mapping(part_node, pw, ("path", "text"))
        parts.append(
            DeliverablePart(
                doc.text(part["path"], f"{pw}.path"), doc.text(part["text"], f"{pw}.text")
            )
        )
    optional = doc.flag(d["optional"], f"{where}.optional") if "optional" in d else False
    return Deliverable(ident, title, phase_id, path, tuple(parts), optional)
