"""Runs the gate's suites through Great Expectations, with Data Docs.

One ephemeral GX context per gate run; each suite runs through a checkpoint
whose action adds its result to the Data Docs site in `docs_dir`. The
result format is COMPLETE with `image_id` as the index column, so every
failing row comes back with its id and value (`suite.Outcome.rows`).
"""
from __future__ import annotations

from typing import List

import pandas as pd

from imgpipe_components.data_gate import suite

SITE = "local"


class Validator:
    """A GX context writing Data Docs to `docs_dir`; `run` validates a
    table against a suite and returns the outcomes in suite order."""

    def __init__(self, docs_dir: str):
        import great_expectations as gx
        from great_expectations.data_context.types.base import \
            ProgressBarsConfig

        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(
            globally=False)
        self._context.add_data_docs_site(site_name=SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": docs_dir},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                                   "show_how_to_buttons": False},
        })
        self._batch = (self._context.data_sources.add_pandas("images")
                       .add_dataframe_asset("image_metadata")
                       .add_batch_definition_whole_dataframe("all"))

    def run(self, expectation_suite, table: pd.DataFrame
            ) -> List[suite.Outcome]:
        import great_expectations as gx
        from great_expectations.checkpoint import UpdateDataDocsAction

        context = self._context
        added = context.suites.add(expectation_suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=added.name, data=self._batch,
                                    suite=added))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=added.name, validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="docs", site_names=[SITE])],
            result_format={"result_format": "COMPLETE",
                           "unexpected_index_column_names": ["image_id"]}))
        result = checkpoint.run(batch_parameters={"dataframe": table})
        (run_result,) = result.run_results.values()
        return [suite.outcome(r) for r in run_result.results]
