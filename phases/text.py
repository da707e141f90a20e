"""User text, in and out: the one place that decides which characters a value may hold and how
it is shown.

In: `control_problem` / `check_text` refuse control characters (ESC, BEL, CR, NUL, C1 codes, the
bidirectional overrides, lone surrogates) in anything a person types or a YAML file holds, with a
message that names the character. Out: `terminal_safe` makes text printable for a terminal (old
rows written before the check, file contents), `md_escape` keeps text literal in markdown (one
line, no HTML, no table break), `md_code` puts text in a code span, `mermaid_label` in a Mermaid
node label. Both template environments (pipelines.templating and deliverables' reports) use these
filters, so a template cannot choose a weaker escaper.

On the ground floor (phases/, which imports nothing of the project) and free of imports beyond
the standard library, so every layer can use it: phases' YAML reader for process.yaml and spec
values, deliverables' domain functions and templates, pipelines' code generation, the front ends.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that are allowed although `str.isprintable()` says no: the zero-width (non-)joiners
# live inside emoji sequences and scripts; spaces other than " " (NBSP…) are kept as spaces.
_JOINERS = frozenset("\u200c\u200d")
# Bidirectional controls reorder what a reader sees (the "Trojan Source" trick).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!])")


def _forbidden(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\n\t":
        return False
    if ch in _JOINERS:
        return False
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls and DEL; Cs: lone surrogates (not encodable as UTF-8); Zl/Zp: line and
    # paragraph separators (a new line to some terminals and editors); bidi overrides.
    return category in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI


def describe_char(ch: str) -> str:
    """`U+001B (ESCAPE)`: a character named so a person can find it."""
    name = unicodedata.name(ch, "") or {
        "\x00": "NUL",
        "\x07": "BEL",
        "\x08": "BACKSPACE",
        "\t": "TAB",
        "\n": "NEWLINE",
        "\r": "CARRIAGE RETURN",
        "\x1b": "ESCAPE",
        "\x7f": "DELETE",
    }.get(ch, "control character")
    return f"U+{ord(ch):04X} ({name})"


def first_control(text: str, *, multiline: bool = False) -> int | None:
    """The index of the first character user text may not hold, or None.
    `multiline` allows newlines and tabs (comments, descriptions)."""
    if text.isprintable():  # the common case, in C
        return None
    return next((n for n, ch in enumerate(text) if _forbidden(ch, multiline)), None)


def control_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored as user text (its first control character), or None.
    A byte that is not UTF-8 (an argument Python decoded with surrogateescape) says so."""
    index = first_control(text, multiline=multiline)
    if index is None:
        return None
    ch = text[index]
    if "\udc80" <= ch <= "\udcff":
        return f"is not UTF-8 text (the byte 0x{ord(ch) - 0xDC00:02X} at position {index + 1})"
    return f"holds the control character {describe_char(ch)} at position {index + 1}"


def check_text(
    text: str, what: str, *, multiline: bool = False, error: type[Exception] = ValueError
) -> str:
    """`text` unchanged, or `error("<what> holds the control character U+001B (ESCAPE) at
    position 3")`: the check every input (CLI argument, TUI field, YAML value) goes through."""
    problem = control_problem(text, multiline=multiline)
    if problem:
        raise error(f"{what} {problem}")
    return text


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(value: object, *, multiline: bool = False) -> str:
    """Text a terminal shows as it is: every non-printable character (ESC, BEL, CR, OSC
    sequences' introducers, bidi overrides, a newline unless `multiline`) written as `\\xNN`."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case, in C
        return text
    return "".join(
        ch
        if ch.isprintable()
        or ch in _JOINERS
        or unicodedata.category(ch) == "Zs"
        or (multiline and ch in "\n\t")
        else _escape_char(ch)
        for ch in text
    )


def one_line(value: object) -> str:
    """Whitespace runs (newlines included) become one space; other controls are escaped."""
    text = " ".join(("" if value is None else str(value)).split())
    return terminal_safe(text)


def md_escape(value: object) -> str:
    """Text that stays literal in markdown: on one line (a table cell cannot break, a heading
    cannot end), every markdown and HTML special character backslash-escaped (so `<img …>` is
    text, not HTML), control characters shown as escapes."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(value))


def md_code(value: object) -> str:
    """A markdown code span holding `value` literally, even with backticks inside."""
    text = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def mermaid_label(value: object) -> str:
    """Text inside a quoted Mermaid label (`["…"]`): on one line, quotes and angle brackets as
    entity codes, so it can neither close the label nor the fence nor inject HTML."""
    text = one_line(value).replace("`", "'")  # three backticks would end the markdown fence
    for ch, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(ch, code)
    return text


def py_string(value: object) -> str:
    """A double-quoted Python string literal whose value is exactly `value`: printable
    characters (emoji, accents) as they are, quotes and backslashes escaped, anything else as
    a `\\x`/`\\u` escape (never a JSON surrogate pair)."""
    out = ['"']
    for ch in str(value):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(_escape_char(ch))
    out.append('"')
    return "".join(out)


def spark_sql_string(value: object) -> str:
    """A Spark SQL string literal whose value is exactly `value`: Spark unescapes backslash
    sequences inside quotes, so a quote is `\\'` (never the ANSI `''`) and a backslash `\\\\`."""
    text = str(value)
    for ch, code in (("\\", "\\\\"), ("'", "\\'"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(ch, code)
    return f"'{text}'"


# `scheme://user:password@host`: the password part of any URI in a text.
_URI_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)@")


def mask_uri(text: str) -> str:
    """`text` with the password of every `scheme://user:password@host` URI in it as `***`."""
    return _URI_PASSWORD.sub(r"\g<head>***@", text)


def mask_secrets(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`mask_uri(text)` and every occurrence of `secrets` (e.g. a catalog password that an
    engine's error message quotes on its own) as `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return mask_uri(text)


def uri_secrets(uri: str) -> tuple[str, ...]:
    """The password of a URI, as written and percent-decoded (empty when it has none)."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(uri).password
    except ValueError:
        return ()
    if not password:
        return ()
    return tuple(dict.fromkeys((password, unquote(password))))


def md_unescape(text: str) -> str:
    """The text `md_escape` wrote (for reading a heading back): backslash escapes removed."""
    return _MD_SPECIAL_ESCAPED.sub(r"\1", text)


_MD_SPECIAL_ESCAPED = re.compile(r"\\([\\`*_\[\]<>#|!])")
