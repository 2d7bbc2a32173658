"""The Dagster instance of `hub run`: every event on the event log's one held connection."""

import dagster as dg
import sqlalchemy as sa

from pipelines.run_instance import HeldConnectionEventLogStorage, run_instance


@dg.asset
def upstream() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


@dg.asset(deps=[upstream])
def downstream() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 2})


@dg.asset_check(asset=downstream)
def downstream_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_a_run_stores_its_events_without_new_connections(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    job = dg.Definitions(assets=[upstream, downstream], asset_checks=[downstream_has_rows]).resolve_implicit_global_asset_job_def()
    with run_instance() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, HeldConnectionEventLogStorage)
        opened = []
        sa.event.listen(storage._engine, "connect", lambda *_: opened.append(1))
        assert job.execute_in_process(instance=instance).success
        first_run = len(opened)
        result = job.execute_in_process(instance=instance)
        assert result.success
        # The stock in-memory event log opens a connection per stored event (42 for this run).
        assert len(opened) == first_run <= 2
        # What the runner reads back: the steps' events, the materialisations and their metadata.
        kinds = [e.dagster_event.event_type for e in instance.all_logs(result.run_id) if e.dagster_event]
        assert kinds.count(dg.DagsterEventType.STEP_SUCCESS) == 3
        latest = instance.get_latest_materialization_event(dg.AssetKey("downstream"))
        assert latest.asset_materialization.metadata["dagster/row_count"].value == 2
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [downstream_has_rows.check_key]
        )[downstream_has_rows.check_key]
        assert check.status.value == "SUCCEEDED"
