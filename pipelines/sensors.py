"""Sensors: a new file in a front-end exchange folder (前置机交换目录) starts a run for its streams.

The cursor is a 16-character fingerprint of the folder listing; the file ledger in the warehouse
still decides which files are new, so a sensor tick that fires twice loads nothing twice.
"""

import dagster as dg

from connectors.files import folder_signature
from pipelines.assets import stream_key
from pipelines.config import HubConfig, SourceConfig
from pipelines.resources import WAREHOUSE_RUN_TAGS


def build_folder_sensor(source: SourceConfig) -> dg.SensorDefinition:
    streams = list(source.streams.values())
    selection = dg.AssetSelection.assets(*[stream_key(s) for s in streams]).downstream()

    @dg.sensor(
        name=f"{source.name}_exchange_folder",
        description=f"{source.label}：交换目录出现新文件时抽取（new files in {source.connection['path']}）",
        minimum_interval_seconds=60,
        target=selection,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def _sensor(context: dg.SensorEvaluationContext):
        signature = ":".join(folder_signature(source.connection["path"], s.options["pattern"]) for s in streams)
        if signature == context.cursor:
            return dg.SkipReason("no new or changed file")
        context.update_cursor(signature)
        return dg.RunRequest(run_key=signature, tags=WAREHOUSE_RUN_TAGS)

    return _sensor


def build_sensors(config: HubConfig) -> list[dg.SensorDefinition]:
    return [build_folder_sensor(src) for src in config.sources.values() if src.kind == "file"]
