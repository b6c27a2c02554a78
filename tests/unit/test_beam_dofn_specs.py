"""The local runner's memo of Beam's DoFn introspection: the same answers
as Beam's own function, once per live instance, and real pipelines with
state and timers still run."""
from __future__ import annotations

import gc

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain

from imgpipe.runners.local import beam_dofn_specs


class Plain(beam.DoFn):
    def process(self, element):
        yield element


class Counting(beam.DoFn):
    """Sums per key in state and emits the sum when a timer fires."""
    TOTAL = userstate.CombiningValueStateSpec("total", sum)
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, element, total=beam.DoFn.StateParam(TOTAL),
                flush=beam.DoFn.TimerParam(FLUSH)):
        total.add(element[1])
        flush.set(0)

    @userstate.on_timer(FLUSH)
    def emit(self, key=beam.DoFn.KeyParam,
             total=beam.DoFn.StateParam(TOTAL)):
        yield key, total.read()


@pytest.fixture(scope="module", autouse=True)
def installed():
    beam_dofn_specs.install()
    beam_dofn_specs.install()            # idempotent


def test_answers_match_beams_own_and_are_remembered():
    original = userstate.get_dofn_specs.__wrapped__
    for dofn in (Plain(), Counting(), beam.Map(len).fn):
        assert userstate.get_dofn_specs(dofn) == original(dofn)
        assert userstate.get_dofn_specs(dofn) is userstate.get_dofn_specs(dofn)
    states, timers = userstate.get_dofn_specs(Counting())
    assert [s.name for s in states] == ["total"]
    assert [t.name for t in timers] == [Counting.FLUSH.name]
    assert userstate.is_stateful_dofn(Counting())
    assert not userstate.is_stateful_dofn(Plain())


def test_an_instance_is_forgotten_when_it_dies():
    dofn = Plain()
    userstate.get_dofn_specs(dofn)
    key = id(dofn)
    assert key in beam_dofn_specs._specs_by_id
    del dofn
    gc.collect()
    assert key not in beam_dofn_specs._specs_by_id


def test_a_stateful_pipeline_still_runs_on_the_direct_runner():
    with beam.Pipeline(options=PipelineOptions([])) as pipeline:
        sums = (pipeline
                | beam.Create([("a", 1), ("b", 2), ("a", 3)])
                | beam.ParDo(Counting()))
        assert_that(sums, equal_to([("a", 4), ("b", 2)]))
