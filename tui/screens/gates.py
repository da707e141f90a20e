"""Phase gates: each phase's gate as it stands, its criteria with evidence and blockers, the
reviewers' decisions, the waivers, and the recorded reviews. The lead requests a review and
records it; reviewers decide; anyone asks for a waiver, someone else approves it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header

from deliverables import TrackerError
from deliverables.gates import (
    DECISION_LABELS,
    evaluate,
    reviews,
    waivers,
)
from deliverables.identity import display_name
from tui.format import CRITERION_MARKS, GATE_OUTCOME_STYLES, status_text, tone, when
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Static, VimTable

MARKS, OUTCOME_STYLES = CRITERION_MARKS, GATE_OUTCOME_STYLES


class GatesScreen(ProjectScreen):
    CSS_PATH = STYLES / "gates.tcss"
    AUTO_FOCUS = "#gate-phases"
    BINDINGS = [
        Binding("o", "request", "Request review", id="gates.request"),
        Binding("v", "decide", "Decide", id="gates.decide"),
        Binding("x", "record", "Record review", id="gates.record"),
        Binding("W", "waive", "Request waiver", id="gates.waive"),
        Binding("A", "approve", "Approve waiver", id="gates.approve"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="gate-left"):
                yield VimTable(id="gate-phases", classes="panel")
                yield VimTable(id="gate-waivers", classes="panel")
                yield VimTable(id="gate-history", classes="panel")
            with VerticalScroll(id="gate-detail", classes="panel"):
                yield Static(id="gate-criteria")
        yield KeyBar()

    def on_mount(self) -> None:
        phases = self.query_one("#gate-phases", VimTable)
        phases.border_title = "Gates"
        for label in ("Phase", "Status", "Gate now"):
            phases.add_column(label, key=label.lower())
        table = self.query_one("#gate-waivers", VimTable)
        table.border_title = "Waivers (A approves the selected one)"
        for label in ("#", "Target", "State", "Expires", "Reason"):
            table.add_column(label, key=label.lower())
        history = self.query_one("#gate-history", VimTable)
        history.border_title = "Recorded reviews"
        for label in ("#", "Phase", "When", "Outcome", "Commit"):
            history.add_column(label, key=label.lower())
        self.query_one("#gate-detail").border_title = "Criteria"

    def _phase_id(self) -> str:
        return (
            self.query_one("#gate-phases", VimTable).current_key or self.project.current_phase().id
        )

    def reload(self) -> None:
        project = self.project
        self.title = f"phasegate · {project.name}"
        self.sub_title = "phase gates"
        items, delivs = project.item_states(), project.deliverable_states()
        gates = project.gate_states()
        phases = self.query_one("#gate-phases", VimTable)
        keep = phases.current_key or project.current_phase(items, delivs, gates).id
        phases.clear()
        for phase in project.model.phases:
            outcome = evaluate(project, phase.id).outcome
            phases.add_row(
                f"{phase.id}. {phase.title}",
                status_text(project.phase_status(phase, items, delivs, gates)),
                Text(outcome.replace("_", " "), style=tone(OUTCOME_STYLES.get(outcome, ""))),
                key=phase.id,
            )
        phases.select_key(keep)
        today = project.today()
        table = self.query_one("#gate-waivers", VimTable)
        table.clear()
        for w in waivers(project):
            state = w.state(today)
            style = {"active": "ok", "expired": "bad", "pending approval": "warn"}[state]
            table.add_row(
                str(w.id),
                w.target,
                Text(state, style=tone(style)),
                w.expires,
                w.reason,
                key=str(w.id),
            )
        history = self.query_one("#gate-history", VimTable)
        history.clear()
        for r in reversed(reviews(project)):
            commit = (r.git_commit or "—")[:8] + (" dirty" if r.git_dirty else "")
            history.add_row(
                str(r.id),
                r.phase,
                when(r.at),
                Text(r.outcome.replace("_", " "), style=tone(OUTCOME_STYLES[r.outcome])),
                commit,
                key=str(r.id),
            )
        self._show_phase()

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        if event.data_table.id == "gate-phases":
            self._show_phase()

    def _show_phase(self) -> None:
        project = self.project
        phase_id = self._phase_id()
        evaluation = evaluate(project, phase_id)
        phase = project.model.phase(phase_id)
        text = Text()
        text.append(f"Phase {phase.id}: {phase.title} — ", style="bold")
        text.append(
            evaluation.outcome.replace("_", " ") + "\n\n",
            style=tone(OUTCOME_STYLES.get(evaluation.outcome, "")),
        )
        for criterion in evaluation.criteria:
            mark, style = MARKS[criterion.status]
            text.append(f"{mark} ", style=tone(style))
            text.append(f"{criterion.id} {criterion.text}", style="bold")
            text.append(f"  [{criterion.status}]\n", style=tone(style))
            for line in criterion.evidence:
                text.append(f"    {line}\n", style="dim")
            for line in criterion.blockers:
                text.append(f"    ✘ {line}\n", style=tone("bad"))
        if evaluation.request is not None:
            reviewers = ", ".join(display_name(r) for r in evaluation.request.reviewers)
            text.append(
                f"\nReview requested {when(evaluation.request.at)} by "
                f"{display_name(evaluation.request.actor)} from {reviewers}\n"
            )
            for d in evaluation.decisions:
                text.append(
                    f"  {when(d.at)} {display_name(d.reviewer)}: "
                    f"{DECISION_LABELS[d.decision]} — {d.comment}\n",
                    style="dim",
                )
        text.append("\no request review · v decide · x record · W waive a criterion", style="dim")
        self.query_one("#gate-criteria", Static).update(text)
        self.query_one("#gate-detail").border_title = f"Gate of phase {phase.id}"

    # --- actions -----------------------------------------------------------------------------

    def action_request(self) -> None:
        from deliverables.gates import request_gate
        from tui.dialogs import TextPrompt

        phase_id = self._phase_id()

        def save(text: str | None) -> None:
            if text is not None:
                self.change(
                    lambda: request_gate(self.project, phase_id, text.split(",")),
                    f"Phase {phase_id} is in review",
                )

        self.app.push_screen(
            TextPrompt(
                f"Reviewers of phase {phase_id}'s gate",
                "",
                "Name <email>, Name <email>",
                lambda t: None if t.strip() else "Name at least one reviewer.",
            ),
            save,
        )

    def action_decide(self) -> None:
        from deliverables.gates import decide
        from tui.dialogs import ChoicePrompt, TextPrompt

        phase_id = self._phase_id()
        choices = [
            ("approve", "approve"),
            ("reject", "reject"),
            ("approve_with_conditions", "approve with conditions"),
        ]

        def chosen(decision: str | None) -> None:
            if decision is None:
                return

            def save(comment: str | None) -> None:
                if comment is not None:
                    self.change(
                        lambda: decide(self.project, phase_id, decision, comment),
                        f"Phase {phase_id}: {DECISION_LABELS[decision]}",
                    )

            self.app.push_screen(
                TextPrompt(
                    f"Comment on your decision ({DECISION_LABELS[decision]})",
                    "",
                    "required",
                    lambda t: None if t.strip() else "A comment is required.",
                ),
                save,
            )

        self.app.push_screen(
            ChoicePrompt(f"Your decision on phase {phase_id}'s gate", choices), chosen
        )

    def action_record(self) -> None:
        from deliverables.gates import record_review, write_report
        from tui.dialogs import ChoicePrompt

        phase_id = self._phase_id()
        outcome = evaluate(self.project, phase_id).outcome

        def chosen(choice: str | None) -> None:
            if choice is None:
                return
            try:
                review = record_review(self.project, phase_id)
                path, sha = write_report(self.project, review, commit=choice == "commit")
            except TrackerError as exc:
                self.notify(str(exc), title="Not recorded", severity="error", timeout=8)
                return
            where = path.relative_to(self.project.root)
            self.notify(
                f"Review {review.id}: {review.outcome.replace('_', ' ')}; wrote {where}"
                + (f", committed {sha[:8]}" if sha else ""),
                timeout=8,
            )
            self.safe_reload()

        self.app.push_screen(
            ChoicePrompt(
                f"Record phase {phase_id}'s gate as it stands ({outcome.replace('_', ' ')})? "
                "A record is never edited.",
                [
                    ("write", "record and write docs/gates/"),
                    ("commit", "record, write and commit the report"),
                ],
            ),
            chosen,
        )

    def action_waive(self) -> None:
        from deliverables.gates import request_waiver
        from tui.dialogs import TextPrompt

        phase_id = self._phase_id()
        blocked = [
            c.id
            for c in evaluate(self.project, phase_id).criteria
            if c.status in ("unmet", "pending")
        ]
        default = blocked[0] if blocked else f"G{phase_id}.1"
        answers: dict[str, str] = {}

        def got_expiry(text: str | None) -> None:
            if text is not None:
                self.change(
                    lambda: request_waiver(
                        self.project, answers["target"], answers["reason"], text
                    ),
                    "Waiver requested: someone else approves it (A)",
                )

        def got_reason(text: str | None) -> None:
            if text is not None:
                answers["reason"] = text
                self.app.push_screen(TextPrompt("Last day it counts", "", "YYYY-MM-DD"), got_expiry)

        def got_target(text: str | None) -> None:
            if text is not None:
                answers["target"] = text
                self.app.push_screen(
                    TextPrompt(
                        f"Why waive {text}?",
                        "",
                        "required",
                        lambda t: None if t.strip() else "A reason is required.",
                    ),
                    got_reason,
                )

        self.app.push_screen(
            TextPrompt("Waive which criterion or item?", default, "e.g. G4.3 or 4.1.2"), got_target
        )

    def action_approve(self) -> None:
        from deliverables.gates import approve_waiver

        key = self.query_one("#gate-waivers", VimTable).current_key
        if key is None:
            self.notify("No waiver to approve.", severity="warning")
            return
        self.change(lambda: approve_waiver(self.project, int(key)), f"Waiver {key} approved")
