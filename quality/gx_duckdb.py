"""Run the `core.<entity>` suites with Great Expectations inside the warehouse, on the staged batch.

`validate_stage(con, entity)` validates the TEMP stage table of `warehouse.loading.load_batch` on
the caller's own DuckDB connection, inside the caller's open transaction: GX's SQL engine is given
that connection through SQLAlchemy (duckdb_engine) and can neither commit, roll back, begin nor
close it. Results are counts per expectation (BASIC); the failing rows themselves are still
fetched by `quality.row_rules.violations_query`, built from the same rules.

`build_data_docs(results, out_dir)` renders GX Data Docs (static HTML, `index.html`) for the latest
validation of each entity.

The GX context is ephemeral and built once per process (building one, and importing GX, takes
seconds). Importing this module imports great_expectations: import it lazily, never from
warehouse/ or quality/row_rules.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from duckdb_engine import ConnectionWrapper, CursorWrapper
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.pool import StaticPool

from quality.gx_suites import build_suite, suite_name
from warehouse.loading import STAGE
from warehouse.model import ENTITIES
from warehouse.normalise import stage_column

DATASOURCE = "hub_warehouse"
# Counts only: the failing rows themselves are fetched into the quarantine by SQL (every one, not a
# sample). BASIC, not SUMMARY: SUMMARY's value counts and index lists are more metrics in GX's graph
# for nothing the hub reads (a 10,000-row case batch validates in 0.12 s instead of 0.15 s).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class GxValidationError(RuntimeError):
    """The stage does not fit the suite (nothing was run), or GX could not evaluate an
    expectation (its query failed; the message says whether the caller's transaction survived)."""


# --- the caller's connection, lent to SQLAlchemy ---------------------------------------------------


class _Cursor(CursorWrapper):
    """duckdb_engine's cursor, remembering the first statement DuckDB refused in this validation
    (after it every statement fails with "transaction is aborted", which says nothing)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, owner: _BorrowedConnection) -> None:
        super().__init__(con, owner)
        self._owner = owner

    def execute(self, statement, parameters=None, context=None):
        try:
            return super().execute(statement, parameters, context)
        except Exception as exc:
            if self._owner.first_error is None:
                self._owner.first_error = f"{exc} -- in: {' '.join(str(statement).split())[:800]}"
            raise


class _BorrowedConnection(ConnectionWrapper):
    """A DBAPI connection for SQLAlchemy that runs statements on the connection lent to it.

    One instance lives in the engine's StaticPool for the whole process; `validate_stage` points
    it at the caller's DuckDB connection for the duration of one validation. Transaction control
    is the caller's: SQLAlchemy's autobegin (duckdb_engine's do_begin → BEGIN, which fails inside an open
    transaction), its rollback when a Connection is closed or first initialised, and close are all
    no-ops here. (`pool_reset_on_return=None` alone is not enough: SQLAlchemy rolls back an
    autobegun transaction whenever a Connection closes.) Every cursor is the lent connection
    itself, never `con.cursor()`, which in DuckDB is a new connection that sees neither the TEMP
    stage table nor the open transaction.
    """

    def __init__(self) -> None:  # no super().__init__: the target is set per call
        self.notices: list[str] = []
        self._target: duckdb.DuckDBPyConnection | None = None
        self.first_error: str | None = None

    def _con(self) -> duckdb.DuckDBPyConnection:
        if self._target is None:
            raise RuntimeError("GX used the warehouse connection outside quality.gx_duckdb.validate_stage")
        return self._target

    def cursor(self) -> CursorWrapper:
        return _Cursor(self._con(), self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con(), name)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def _buffer_results(engine: SqlAlchemyExecutionEngine) -> None:
    """Make this execution engine's `execute_query` return a buffered result.

    Why: GX's `SqlAlchemyExecutionEngine.execute_query` runs the query inside
    `with self.get_connection()` and returns the un-fetched CursorResult after that block has
    closed the SQLAlchemy Connection; a DuckDB result does not survive that (with duckdb_engine's
    own connections the pool's rollback/close ends it: "list index out of range"), and on the
    lent connection a pending DuckDB result is replaced by the next statement on it. Fetching
    inside the block (`.freeze()()`) fixes both; GX's results here are aggregates and at most
    `partial_unexpected_count` sample values, so buffering costs nothing.

    Scope: only the instance GX uses for the hub's datasource is patched (an instance attribute,
    not the class), so other GX engines in the process keep GX's own behaviour.
    """
    if getattr(engine, "_hub_buffered_results", False):
        return

    def execute_query(query):
        with engine.get_connection() as connection:
            result = engine._execute_query_with_recovery(connection, query)
            return result.freeze()() if result.returns_rows else result

    engine.execute_query = execute_query  # type: ignore[method-assign]
    engine._hub_buffered_results = True  # type: ignore[attr-defined]


def _keep_objects(store) -> None:
    """Make this in-memory store keep the objects it is given instead of their JSON.

    Why: the ephemeral context's validation results store lives in this process only and feeds
    nothing but `build_data_docs`, which sets the latest result of every entity and then has
    GX's site builder read each back (the index shows every entity's outcome). GX serialises
    each result to a JSON string on `set` and parses it on every `get`: a third of an hourly
    run's Data Docs build, for a round trip that returns what was put in.

    Scope: this store instance only (instance attributes), so other GX stores keep GX's own
    behaviour.
    """
    store.serialize = lambda value: value  # type: ignore[method-assign]
    store.deserialize = lambda value: value  # type: ignore[method-assign]


# --- the process-wide context ---------------------------------------------------------------------


class _Hub:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.borrowed = _BorrowedConnection()
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        _keep_objects(self.context.validation_results_store)
        self.datasource = None
        self.suites: dict[str, gx.ExpectationSuite] = {}
        self.definitions: dict[str, Any] = {}  # stage table → batch definition

    def source(self):
        """The SQL datasource over the lent connection (created on first use: it connects)."""
        if self.datasource is None:
            borrowed = self.borrowed
            self.datasource = self.context.data_sources.add_sql(
                name=DATASOURCE,
                # The URL only selects the duckdb_engine dialect: `creator` supplies the connection.
                connection_string="duckdb:///:memory:",
                kwargs={
                    "creator": lambda: borrowed,
                    "poolclass": StaticPool,
                    "pool_reset_on_return": None,
                },
            )
        return self.datasource

    def batch_definition(self, stage_table: str):
        """The whole-table batch definition of a query asset over `stage_table` (built once: GX
        saves its configuration as YAML for every asset and definition it adds)."""
        if stage_table not in self.definitions:
            ds = self.source()
            name = "stage__" + stage_table.replace(".", "__")
            try:
                asset = ds.get_asset(name)
            except LookupError:
                # A query asset, not a table asset: GX reflects a table asset's columns with
                # PostgreSQL catalog queries that DuckDB rejects, and a failed statement aborts the
                # caller's transaction. The query asset reads its columns from the query itself.
                asset = ds.add_query_asset(name=name, query=f"SELECT * FROM {stage_table}")
            try:
                definition = asset.get_batch_definition("whole")
            except (KeyError, LookupError, ValueError):
                definition = asset.add_batch_definition_whole_table("whole")
            self.definitions[stage_table] = definition
        return self.definitions[stage_table]

    def batch(self, stage_table: str):
        definition = self.batch_definition(stage_table)
        engine = self.source().get_execution_engine()
        _buffer_results(engine)
        engine._inspector = None  # never reuse reflection cached from another connection or stage
        return definition.get_batch()

    def suite(self, entity_name: str) -> gx.ExpectationSuite:
        if entity_name not in self.suites:
            self.suites[entity_name] = self.context.suites.add_or_update(build_suite(entity_name))
        return self.suites[entity_name]


_HUB: _Hub | None = None
_HUB_LOCK = threading.Lock()


def hub_context() -> _Hub:
    """The per-process ephemeral GX context, datasource and suites (built on first use)."""
    global _HUB
    with _HUB_LOCK:
        if _HUB is None:
            _HUB = _Hub()
        return _HUB


# --- validation ------------------------------------------------------------------------------------


def prepare(con: duckdb.DuckDBPyConnection, entity_name: str, stage_table: str = STAGE) -> None:
    """Build, ahead of a validation, what the first one in a process would build: the context,
    the entity's suite, the datasource (whose engine's first connection runs the dialect's
    set-up queries on `con`) and the stage's batch definition.

    Why: these took 0.15–0.19 s of a 10,000-row batch's 0.33 s validation; `pipelines.extract`
    calls this in a thread while the source is read. `con` must be a connection of its own (a
    cursor of the warehouse connection, not the connection itself, which the loader uses
    meanwhile); it only reads. The validation waits for this to finish (the context's lock).
    """
    hub = hub_context()
    with hub.lock:
        hub.borrowed._target = con
        try:
            hub.suite(entity_name)
            hub.batch_definition(stage_table)
        finally:
            hub.borrowed._target = None


def prepare_suites(entity_names: Iterable[str]) -> None:
    """Build the context and these entities' suites, which need no connection: `hub run` does it
    in a thread while Dagster sets up the run (the validations and the Data Docs index use them)."""
    hub = hub_context()
    with hub.lock:
        for name in entity_names:
            hub.suite(name)


def _summary(entity_name: str, name: str, stage_table: str, result: ExpectationSuiteValidationResult, started) -> dict:
    rows = []
    for r in result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        res = r.result or {}
        kwargs = dict(cfg.kwargs)
        rows.append(
            {
                "expectation_type": cfg.type,
                "column": kwargs.get("column") or [kwargs.get("column_A"), kwargs.get("column_B")],
                "reason": meta.get("reason"),
                "rule_kind": meta.get("rule_kind"),
                "fields": meta.get("fields"),
                "description": meta.get("description"),
                "success": bool(r.success),
                "unexpected_count": res.get("unexpected_count"),
                "element_count": res.get("element_count"),
            }
        )
    return {
        "entity": entity_name,
        "suite": name,
        "stage_table": stage_table,
        "validated_at": started.isoformat(timespec="seconds"),
        "success": bool(result.success),
        "evaluated": len(rows),
        "failed": sum(not x["success"] for x in rows),
        "expectations": rows,
        "validation_result": result,  # the GX object, for build_data_docs
    }


def _raised(info) -> list[dict]:
    """The raised exceptions of one expectation result: GX reports either one exception_info or
    a dict of them keyed by metric id."""
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        return [info] if info.get("raised_exception") else []
    return [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]


def _check_stage(con: duckdb.DuckDBPyConnection, entity_name: str, stage_table: str) -> None:
    """Refuse, before GX sends any SQL, a stage that lacks a column the suite reads: a statement
    DuckDB rejects aborts the caller's transaction. (Binding the stage's columns does not: a
    missing table fails at binding, before anything runs.)"""
    try:  # the relation's own columns (a catalog-wide duckdb_columns() scan took 4 ms)
        have = set(con.sql(f"SELECT * FROM {stage_table}").columns)
    except duckdb.CatalogException:
        raise GxValidationError(f"no table {stage_table} on this connection; nothing was run") from None
    entity = ENTITIES[entity_name]
    need = ["_row_no", *entity.columns, *(stage_column(c) for c in entity.columns)]
    missing = [c for c in need if c not in have]
    if missing:
        raise GxValidationError(
            f"{stage_table} is not a {entity_name} stage: it lacks {', '.join(missing[:12])}"
            f"{' …' if len(missing) > 12 else ''}; nothing was run, the transaction is untouched"
        )


def validate_stage(
    con: duckdb.DuckDBPyConnection,
    entity_name: str,
    stage_table: str = STAGE,
    *,
    result_format: dict | str = RESULT_FORMAT,
    suite: gx.ExpectationSuite | None = None,
) -> dict:
    """Validate a staged batch with the suite `core.<entity>` on `con`, inside its transaction.

    Returns {entity, suite, stage_table, validated_at, success, evaluated, failed, expectations:
    [{expectation_type, column, reason, rule_kind, fields, description, success,
    unexpected_count, element_count}], validation_result (the GX object)}. Nothing is committed,
    rolled back or closed. `suite` validates another suite (e.g. ad hoc expectations) instead of
    `core.<entity>`; `result_format` is GX's (default BASIC, counts without sample values).

    Raises GxValidationError, before any SQL, when the stage lacks a column the suite reads; and
    when GX could not evaluate an expectation (a failed statement aborts a DuckDB transaction, so
    the message says whether the caller's transaction still works).
    """
    if not _IDENT.match(stage_table):
        raise ValueError(f"not a table name: {stage_table!r}")
    if entity_name not in ENTITIES:
        raise KeyError(f"unknown entity {entity_name!r}")
    _check_stage(con, entity_name, stage_table)
    hub = hub_context()
    with hub.lock:
        hub.borrowed._target = con
        hub.borrowed.first_error = None
        try:
            suite = suite if suite is not None else hub.suite(entity_name)
            batch = hub.batch(stage_table)
            started = datetime.now().astimezone()
            fmt = dict(result_format) if isinstance(result_format, dict) else result_format
            result = batch.validate(suite, result_format=fmt)
        finally:
            hub.borrowed._target = None
        first_error = hub.borrowed.first_error
    errors = [(r.expectation_config.type, info) for r in result.results for info in _raised(r.exception_info)]
    if errors:
        try:
            con.execute("SELECT 1").fetchall()
            state = "the caller's transaction is still usable"
        except duckdb.Error as exc:
            state = f"the caller's transaction is aborted ({exc})"
        first = first_error or str(errors[0][1].get("exception_message", ""))[:800]
        raise GxValidationError(
            f"GX could not evaluate {len(errors)} expectation(s) of {suite.name} (first failure: {first}); {state}"
        )
    # batch.validate sets no run: name it for Data Docs (entity and stage, time of validation).
    result.meta["run_id"] = RunIdentifier(run_name=f"{entity_name}@{stage_table}", run_time=started)
    result.meta["entity"] = entity_name
    return _summary(entity_name, suite.name, stage_table, result, started)


# --- Data Docs -------------------------------------------------------------------------------------


def _as_validation_result(item) -> ExpectationSuiteValidationResult:
    if isinstance(item, ExpectationSuiteValidationResult):
        return item
    if isinstance(item, dict) and isinstance(item.get("validation_result"), ExpectationSuiteValidationResult):
        return item["validation_result"]
    raise TypeError("build_data_docs takes validate_stage() results or GX suite validation results")


def _run_id(vr: ExpectationSuiteValidationResult, name: str) -> RunIdentifier:
    """The validation's run id; one read back from GX's JSON is a dict and becomes the same id, so
    its page keeps its path from one build to the next."""
    run_id = vr.meta.get("run_id")
    if isinstance(run_id, RunIdentifier):
        return run_id
    if isinstance(run_id, dict) and run_id.get("run_name") and run_id.get("run_time"):
        return RunIdentifier(run_name=run_id["run_name"], run_time=run_id["run_time"])
    return RunIdentifier(run_name=name, run_time=datetime.now().astimezone())


BUILT_PAGES = ".hub_pages"  # the validation pages on disk, one key per line
DOCS_VIEWS = "quality.gx_docs_views"  # GX's site builder and page views, made to do less per build


def _page(key: ValidationResultIdentifier) -> str:
    return "|".join(str(part) for part in key.to_tuple())


def _remove_empty_folders(root: Path) -> None:
    """Remove the folders under `root` that hold no file, as GX means to when it removes a
    superseded validation page (its `rrmdir` tests a generator for emptiness and never does): an
    hourly run left one empty folder per validated entity behind, and every build walks them all."""
    if not root.is_dir():
        return
    for folder, subfolders, files in os.walk(root, topdown=False):
        if Path(folder) != root and not files and not any((Path(folder) / sub).exists() for sub in subfolders):
            Path(folder).rmdir()


def build_data_docs(results: Iterable, out_dir: str | Path, *, fresh: Iterable[str] | None = None) -> Path:
    """Write GX Data Docs (static HTML) for the latest validation of each entity into `out_dir`.

    `results` are what `validate_stage` returned (or GX ExpectationSuiteValidationResult objects),
    oldest first; per suite the last one is rendered. This is GX's own SiteBuilder (the ephemeral
    context can host a filesystem site): an index page, one page per validation and one per
    suite. A validation page that a later validation of the suite supersedes is removed (GX
    removes the file, `_remove_empty_folders` its folders). Returns the path of `index.html`.

    `fresh` names the suites validated since the last build: when every other page is already on
    disk (recorded in `.hub_pages`), only theirs and the index are rendered, which an hourly
    incremental run would otherwise pay for every entity.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    latest: dict[str, ExpectationSuiteValidationResult] = {}
    for item in results:
        vr = _as_validation_result(item)
        latest[vr.suite_name] = vr
    hub = hub_context()
    with hub.lock:
        ctx = hub.context
        site = "hub_" + hashlib.sha1(str(out).encode()).hexdigest()[:12]
        if site not in (ctx.get_site_names() or []):
            # What add_data_docs_site does, without saving the context's configuration as YAML
            # afterwards: an ephemeral context keeps it nowhere (7 ms of an hourly run's report).
            ctx.variables.data_docs_sites = {**(ctx.config.data_docs_sites or {}), site: {
                "module_name": DOCS_VIEWS, "class_name": "StaticAssetsOnceSiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False,
                                       "view": {"module_name": DOCS_VIEWS, "class_name": "CachedJinjaIndexPageView"}},
                "site_section_builders": {
                    section: {"view": {"module_name": DOCS_VIEWS, "class_name": "CachedJinjaPageView"}}
                    for section in ("expectations", "validations")
                },
                "show_how_to_buttons": False,
            }}
        # The in-memory results store is the process's; keep in it only what this site shows,
        # so the index lists exactly the latest validation per entity given here.
        store = ctx.validation_results_store
        for old_key in store.list_keys():
            store.remove_key(old_key)
        keys: dict[str, ValidationResultIdentifier] = {}
        for name, vr in latest.items():
            entity = vr.meta.get("entity") or name.removeprefix("core.")
            if name == suite_name(entity):
                hub.suite(entity)  # the suite page needs the suite in the context's store
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                run_id=_run_id(vr, name),
                batch_identifier=DATASOURCE,  # not vr.batch_id: GX's JSON does not keep it, the page path must
            )
            ctx.validation_results_store.set(key, vr)
            keys[name] = key
        marker = out / BUILT_PAGES
        built = set(marker.read_text(encoding="utf-8").splitlines()) if marker.exists() else set()
        fresh_names = set(fresh) if fresh is not None else set(keys)
        stale = [k for n, k in keys.items() if n not in fresh_names and _page(k) not in built]
        renew = [keys[n] for n in fresh_names if n in keys]
        if fresh is None or stale or not (out / "index.html").exists():
            ctx.build_data_docs(site_names=[site])
        elif renew:  # (GX reads an empty list as "everything")
            ctx.build_data_docs(site_names=[site], resource_identifiers=renew)
        # The pages on disk now: GX removed those of validations no longer the latest.
        marker.write_text("\n".join(sorted(_page(k) for k in keys.values())), encoding="utf-8")
    _remove_empty_folders(out / "validations")
    index = out / "index.html"
    if not index.exists():
        raise RuntimeError(f"GX did not write {index}")
    return index
