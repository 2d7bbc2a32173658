"""The sources file (sources.yaml, see sources.md) parsed once into typed objects.

Every mistake a user can make in the file is reported as a `ConfigError` naming the file, the
source, the stream and the key, so the CLI can print one line instead of a traceback.
`${VAR}` references are kept as written here and resolved only at run time (`resolve_env`), so
secrets never sit in these objects, in logs or in the Dagster UI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from warehouse.model import ENTITIES

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

CONNECTION_KINDS = {
    "sql": {"url", "engine"},
    "odbc": {"dsn", "connection_string", "arrow"},
    "file": {"path", "pattern", "format", "encoding", "delimiter", "sheet", "settle_seconds"},
    "http": {"base_url", "token", "token_header", "timeout_seconds", "retries"},
}
SOURCE_KEYS = {"department", "label", "connection", "streams", "batch_rows"}
STREAM_KEYS = {
    "entity", "table", "query", "key", "cursor", "fields", "label",
    # file streams
    "pattern", "format", "encoding", "delimiter", "sheet",
    # http streams
    "path", "records", "params", "paging", "since_param",
}
FIELD_KEYS = {"column", "format", "map", "value", "default"}
FILE_FORMATS = {"csv", "xlsx", "jsonl"}
ENCODINGS = {"utf-8", "utf-8-sig", "gb18030", "gbk"}


class ConfigError(ValueError):
    """A mistake in the sources file; the message names file, source, stream and key."""


@dataclass(frozen=True)
class FieldSpec:
    """How one canonical field is read: from a column, or a constant."""

    name: str
    column: str | None = None
    format: str | None = None
    map: dict[str, str] | None = None
    value: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class StreamConfig:
    source: str
    name: str
    entity: str
    key: tuple[str, ...]
    fields: dict[str, FieldSpec]
    table: str | None = None
    query: str | None = None
    cursor: str | None = None
    label: str | None = None
    # file / http options (stream overrides of connection defaults already applied)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        """`<source>.<stream>`: the `_source` lineage value."""
        return f"{self.source}.{self.name}"

    def source_columns(self) -> list[str]:
        """Source columns the mapping reads, in a stable order."""
        cols = [c for c in self.key]
        for spec in self.fields.values():
            if spec.column and spec.column not in cols:
                cols.append(spec.column)
        if self.cursor and self.cursor not in cols:
            cols.append(self.cursor)
        return cols


@dataclass(frozen=True)
class SourceConfig:
    name: str
    department: str
    label: str
    kind: str
    connection: dict[str, Any]
    streams: dict[str, StreamConfig]
    batch_rows: int = 50_000


def declaration_sha(source: SourceConfig, stream: StreamConfig) -> str:
    """A fingerprint of what the sources file says about one stream (its source's connection as
    written, with ${VAR} unresolved, so no secret enters it): a changed declaration reruns the stream."""
    declared = {
        "source": {k: v for k, v in asdict(source).items() if k != "streams"},
        "stream": asdict(stream),
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HubConfig:
    path: Path
    sources: dict[str, SourceConfig]

    def streams(self) -> list[StreamConfig]:
        return [st for src in self.sources.values() for st in src.streams.values()]


def _where(path: Path, *parts: str) -> str:
    return f"{path}: " + " → ".join(p for p in parts if p)


def _check_keys(data: dict, allowed: set[str], path: Path, *where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = _closest(str(key), allowed)
            raise ConfigError(
                f"{_where(path, *where, str(key))}: unknown key '{key}'"
                + (f" (did you mean '{hint}'?)" if hint else "")
                + f"; allowed: {', '.join(sorted(allowed))}"
            )


def _closest(word: str, options: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return found[0] if found else None


def _require_mapping(value: Any, path: Path, *where: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, *where)}: expected a mapping, got {type(value).__name__}")
    return value


def _text(value: Any, path: Path, *where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise ConfigError(f"{_where(path, *where)}: expected a text value, got {value!r}")
    return str(value)


def _parse_field(name: str, raw: Any, path: Path, where: tuple[str, ...]) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(name=name, column=raw)
    spec = _require_mapping(raw, path, *where)
    _check_keys(spec, FIELD_KEYS, path, *where)
    if "value" in spec:
        if "column" in spec:
            raise ConfigError(f"{_where(path, *where)}: give either 'column' or 'value', not both")
        return FieldSpec(name=name, value=_text(spec["value"], path, *where, "value"))
    if "column" not in spec:
        raise ConfigError(f"{_where(path, *where)}: missing key 'column' (or 'value' for a constant)")
    mapping = None
    if "map" in spec:
        m = _require_mapping(spec["map"], path, *where, "map")
        mapping = {_text(k, path, *where, "map"): _text(v, path, *where, "map", str(k)) for k, v in m.items()}
    fmt = spec.get("format")
    if fmt is not None:
        fmt = _text(fmt, path, *where, "format")
        if fmt not in ("excel", "epoch_ms") and "%" not in fmt:
            raise ConfigError(
                f"{_where(path, *where, 'format')}: '{fmt}' is neither a strftime format nor excel/epoch_ms"
            )
    default = spec.get("default")
    return FieldSpec(
        name=name,
        column=_text(spec["column"], path, *where, "column"),
        format=fmt,
        map=mapping,
        default=None if default is None else _text(default, path, *where, "default"),
    )


def _parse_stream(source: str, name: str, raw: Any, kind: str, conn: dict, path: Path) -> StreamConfig:
    where = ("sources", source, "streams", name)
    if not NAME_RE.match(name):
        raise ConfigError(f"{_where(path, *where)}: stream name must match [a-z][a-z0-9_]*")
    data = _require_mapping(raw, path, *where)
    _check_keys(data, STREAM_KEYS, path, *where)
    entity = data.get("entity")
    if entity not in ENTITIES:
        raise ConfigError(
            f"{_where(path, *where, 'entity')}: unknown entity {entity!r}; one of {', '.join(ENTITIES)}"
        )
    canonical = ENTITIES[entity].columns
    fields_raw = _require_mapping(data.get("fields"), path, *where, "fields")
    fields: dict[str, FieldSpec] = {}
    for fname, fraw in fields_raw.items():
        if fname not in canonical:
            hint = _closest(str(fname), set(canonical))
            raise ConfigError(
                f"{_where(path, *where, 'fields', str(fname))}: '{fname}' is not a field of entity "
                f"'{entity}'" + (f" (did you mean '{hint}'?)" if hint else "")
            )
        fields[fname] = _parse_field(fname, fraw, path, (*where, "fields", fname))
    key = data.get("key")
    if isinstance(key, str):
        key = [key]
    if not key or not isinstance(key, list) or not all(isinstance(k, str) and k for k in key):
        raise ConfigError(f"{_where(path, *where, 'key')}: give the source's key columns as a list")
    table, query = data.get("table"), data.get("query")
    if kind in ("sql", "odbc"):
        if bool(table) == bool(query):
            raise ConfigError(f"{_where(path, *where)}: give exactly one of 'table' or 'query'")
    options: dict[str, Any] = {}
    if kind == "file":
        for opt in ("pattern", "format", "encoding", "delimiter", "sheet"):
            if opt in data:
                options[opt] = data[opt]
            elif opt in conn:
                options[opt] = conn[opt]
        if not options.get("pattern"):
            raise ConfigError(f"{_where(path, *where, 'pattern')}: a file stream needs a 'pattern'")
        options.setdefault("format", "csv")
        options.setdefault("encoding", "utf-8")
        options.setdefault("delimiter", ",")
        if options["format"] not in FILE_FORMATS:
            raise ConfigError(
                f"{_where(path, *where, 'format')}: unknown format {options['format']!r}; "
                f"one of {', '.join(sorted(FILE_FORMATS))}"
            )
        if str(options["encoding"]).lower() not in ENCODINGS:
            raise ConfigError(
                f"{_where(path, *where, 'encoding')}: unsupported encoding {options['encoding']!r}; "
                f"one of {', '.join(sorted(ENCODINGS))}"
            )
        options["encoding"] = str(options["encoding"]).lower()
    if kind == "http":
        for opt in ("path", "records", "params", "paging", "since_param"):
            if opt in data:
                options[opt] = data[opt]
        if not options.get("path"):
            raise ConfigError(f"{_where(path, *where, 'path')}: an http stream needs a 'path'")
    return StreamConfig(
        source=source,
        name=name,
        entity=entity,
        key=tuple(key),
        fields=fields,
        table=table,
        query=query,
        cursor=data.get("cursor"),
        label=data.get("label"),
        options=options,
    )


def _parse_source(name: str, raw: Any, path: Path) -> SourceConfig:
    where = ("sources", name)
    if not NAME_RE.match(str(name)):
        raise ConfigError(f"{_where(path, *where)}: source name must match [a-z][a-z0-9_]*")
    data = _require_mapping(raw, path, *where)
    _check_keys(data, SOURCE_KEYS, path, *where)
    for required in ("department", "connection", "streams"):
        if required not in data:
            raise ConfigError(f"{_where(path, *where, required)}: missing key '{required}'")
    conn = dict(_require_mapping(data["connection"], path, *where, "connection"))
    kind = conn.pop("kind", None)
    if kind not in CONNECTION_KINDS:
        raise ConfigError(
            f"{_where(path, *where, 'connection', 'kind')}: unknown kind {kind!r}; "
            f"one of {', '.join(CONNECTION_KINDS)}"
        )
    _check_keys(conn, CONNECTION_KINDS[kind], path, *where, "connection")
    if kind == "sql" and not conn.get("url"):
        raise ConfigError(f"{_where(path, *where, 'connection', 'url')}: a sql connection needs a 'url'")
    if kind == "sql" and conn.get("engine") not in (None, "adbc", "sqlalchemy"):
        raise ConfigError(
            f"{_where(path, *where, 'connection', 'engine')}: unknown engine {conn['engine']!r}; adbc or sqlalchemy"
        )
    if kind == "odbc" and not isinstance(conn.get("arrow", True), bool):
        raise ConfigError(f"{_where(path, *where, 'connection', 'arrow')}: expected true or false")
    if kind == "odbc" and not (conn.get("dsn") or conn.get("connection_string")):
        raise ConfigError(
            f"{_where(path, *where, 'connection')}: an odbc connection needs 'dsn' or 'connection_string'"
        )
    if kind == "file":
        if not conn.get("path"):
            raise ConfigError(f"{_where(path, *where, 'connection', 'path')}: a file connection needs a 'path'")
        folder = Path(os.path.expanduser(str(conn["path"])))
        conn["path"] = str(folder if folder.is_absolute() else (path.parent / folder).resolve())
    if kind == "http" and not conn.get("base_url"):
        raise ConfigError(f"{_where(path, *where, 'connection', 'base_url')}: an http connection needs 'base_url'")
    streams_raw = _require_mapping(data["streams"], path, *where, "streams")
    if not streams_raw:
        raise ConfigError(f"{_where(path, *where, 'streams')}: a source needs at least one stream")
    streams = {sn: _parse_stream(name, sn, sr, kind, conn, path) for sn, sr in streams_raw.items()}
    batch_rows = data.get("batch_rows", 50_000)
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise ConfigError(f"{_where(path, *where, 'batch_rows')}: expected a positive integer")
    return SourceConfig(
        name=name,
        department=_text(data["department"], path, *where, "department"),
        label=str(data.get("label") or name),
        kind=kind,
        connection=conn,
        streams=streams,
        batch_rows=batch_rows,
    )


def load_config(path: str | os.PathLike) -> HubConfig:
    """Parse and validate a sources file; raises ConfigError with file, source and key."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: sources file not found (set HUB_SOURCES to the right file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{at}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    data = _require_mapping(data, path)
    _check_keys(data, {"sources"}, path)
    sources_raw = _require_mapping(data.get("sources"), path, "sources")
    sources = {str(n): _parse_source(str(n), raw, path) for n, raw in sources_raw.items()}
    return HubConfig(path=path, sources=sources)


def resolve_env(value: str, *, where: str) -> str:
    """Replace ${VAR} by the environment's value, at run time only."""

    def sub(m: re.Match) -> str:
        var = m.group(1)
        if var not in os.environ:
            raise ConfigError(f"{where}: environment variable ${{{var}}} is not set")
        return os.environ[var]

    return ENV_RE.sub(sub, value)


def check_environment(config: HubConfig) -> None:
    """Fail before any work if a ${VAR} the file uses is unset (the warehouse stays untouched)."""
    for src in config.sources.values():
        for key, value in src.connection.items():
            if isinstance(value, str):
                resolve_env(value, where=_where(config.path, "sources", src.name, "connection", key))
