"""ODBC connection strings: parse, mask, add driver defaults (private helper of `connectors.odbc`).

Why a parser: a connection string is ``KEY=value;KEY={value; with braces}``; values in braces
may hold ``;`` and ``}}`` (an escaped brace). Masking a password with a regex over the raw text
would miss a braced ``PWD={a;b}``, so every place that shows a connection string goes through
`mask_connection_string`, which works on the parsed attributes.
"""

from __future__ import annotations

import re

# Keys whose values are secrets (case-insensitive): PWD, PASSWORD, TLSKEYPWD, SSLPASSWORD, …
_SECRET_KEY = re.compile(r"(PWD|PASSWORD|SECRET|TOKEN)$", re.IGNORECASE)
_NEEDS_BRACES = re.compile(r"[;{}]|^\s|\s$")


class ConnectionStringError(ValueError):
    """The text is not a well-formed ODBC connection string (the message never shows it)."""


def _scan(text: str) -> list[tuple[str, str, int, int]]:
    """(key, value, start, end) per attribute; text[start:end] is the value as written."""
    found: list[tuple[str, str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in "; \t\r\n":
            i += 1
            continue
        eq = text.find("=", i)
        if eq < 0:
            raise ConnectionStringError(f"attribute {len(found) + 1} has no '='")
        key = text[i:eq].strip()
        if not key or ";" in key:
            raise ConnectionStringError(f"attribute {len(found) + 1} has no key")
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        start = i
        if i < n and text[i] == "{":
            out, i = [], i + 1
            while True:
                close = text.find("}", i)
                if close < 0:
                    raise ConnectionStringError(f"the value of {key} has an unclosed '{{'")
                out.append(text[i:close])
                if close + 1 < n and text[close + 1] == "}":  # '}}' is a literal '}'
                    out.append("}")
                    i = close + 2
                    continue
                i = close + 1
                break
            value, end = "".join(out), i
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] != ";":
                raise ConnectionStringError(f"unexpected text after the braced value of {key}")
        else:
            end = text.find(";", i)
            end = n if end < 0 else end
            value = text[i:end].strip()
            i = end
        found.append((key, value, start, end))
    return found


def parse(text: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a connection string, in order; braces removed from values."""
    return [(k, v) for k, v, _, _ in _scan(text)]


def attributes(text: str) -> dict[str, str]:
    """Keys upper-cased; the first occurrence of a key wins (as in the driver manager)."""
    out: dict[str, str] = {}
    for key, value in parse(text):
        out.setdefault(key.upper(), value)
    return out


def quote_value(value: str) -> str:
    return "{" + value.replace("}", "}}") + "}" if _NEEDS_BRACES.search(value) else value


def build(pairs: list[tuple[str, str]]) -> str:
    return ";".join(f"{k}={quote_value(v)}" for k, v in pairs)


def with_defaults(text: str, defaults: list[tuple[str, str]]) -> str:
    """`text` with each (key, value) of `defaults` appended unless the key is already there."""
    present = {k.upper() for k, _ in parse(text)}
    extra = [(k, v) for k, v in defaults if k.upper() not in present]
    if not extra:
        return text
    return text.rstrip().rstrip(";") + ";" + build(extra)


def secrets(text: str) -> list[str]:
    """Secret values in the string (for scrubbing driver messages); empty if unparsable."""
    try:
        return [v for k, v in parse(text) if _SECRET_KEY.search(k) and v]
    except ConnectionStringError:
        return []


def mask_connection_string(text: str) -> str:
    """The connection string as written, with every secret value replaced by ***; never raises."""
    try:
        found = _scan(text)
    except ConnectionStringError:
        return "<unparsable connection string>"
    for key, _, start, end in reversed(found):
        if _SECRET_KEY.search(key):
            text = text[:start] + "***" + text[end:]
    return text


def scrub(message: str, secret_values: list[str]) -> str:
    """Remove secret values from a driver message, should a driver ever echo one."""
    for value in secret_values:
        if len(value) >= 3:
            message = message.replace(value, "***")
    return message
