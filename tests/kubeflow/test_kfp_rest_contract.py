"""Contract tests: the KFP v2beta1 REST requests `imgpipe kubeflow submit`
and `schedule` make through the real kfp.Client (kfp 2.5).

The server is `KfpApiRecorder` on 127.0.0.1, not Kubeflow Pipelines: these
tests check what we send (upload, run, recurring run) against the v2beta1
API, not that a real server accepts it or runs the pipeline.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.kubeflow.kfp_api_recorder import KfpApiRecorder


def invoke(*args):
    from imgpipe.cli.main import app
    return CliRunner().invoke(app, ["kubeflow", *args])


@pytest.fixture()
def recorder(isolated_kfp_context):
    with KfpApiRecorder() as server:
        yield server


def test_submit_uploads_the_spec_and_starts_one_run(compiled, recorder):
    result = invoke("submit", "--package", str(compiled.path),
                    "--host", recorder.url, "--token", "secret-token",
                    "--epochs", "3", "--data-root", "gs://test-data/span-7",
                    "--experiment", "digits-nightly", "--run-name", "run A")
    assert result.exit_code == 0, result.output
    assert "Run run-1 started" in result.output

    upload, = recorder.calls("POST", "/pipelines/upload")
    assert upload.query["name"] == ["imgpipe"]
    assert upload.uploaded_file() == compiled.path.read_bytes()
    version_upload, = recorder.calls("POST", "/pipelines/upload_version")
    assert version_upload.query["pipelineid"] == ["pipeline-1"]
    assert version_upload.query["name"][0].startswith("imgpipe-")
    experiment, = recorder.calls("POST", "/experiments")
    assert experiment.json()["display_name"] == "digits-nightly"

    run, = recorder.calls("POST", "/runs")
    body = run.json()
    assert body["display_name"] == "run A"
    assert body["experiment_id"] == "exp-1"
    assert body["pipeline_version_reference"] == {
        "pipeline_id": "pipeline-1", "pipeline_version_id": "pipeline-1-v2"}
    assert body["service_account"] == "imgpipe-pipeline-runner"
    runtime = body["runtime_config"]
    assert runtime["pipeline_root"] == "gs://test-artifacts/root"
    assert runtime["parameters"]["data_root"] == "gs://test-data/span-7"
    train = json.loads(runtime["parameters"]["train_config"])
    assert train["epochs"] == 3
    assert all(r.headers.get("authorization") == "Bearer secret-token"
               for r in recorder.requests)


def test_schedule_creates_a_cron_recurring_run_one_at_a_time(compiled,
                                                            recorder):
    result = invoke("schedule", "--package", str(compiled.path),
                    "--host", recorder.url, "--cron", "0 0 3 * * 1",
                    "--cookies", "authservice_session=abc",
                    "--namespace", "team-vision")
    assert result.exit_code == 0, result.output

    # Only our backend version check asks healthz: with a namespace the kfp
    # client skips its own probe.
    assert len(recorder.calls("GET", "/healthz")) == 1
    upload, = recorder.calls("POST", "/pipelines/upload")
    assert upload.query["namespace"] == ["team-vision"]
    recurring, = recorder.calls("POST", "/recurringruns")
    body = recurring.json()
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 3 * * 1"}}
    assert int(body["max_concurrency"]) == 1
    assert body["no_catchup"] is True
    assert body["mode"] == "ENABLE"
    assert body["display_name"] == "imgpipe-retraining"
    assert body["pipeline_version_reference"]["pipeline_id"] == "pipeline-1"
    assert body["runtime_config"]["pipeline_root"] == "gs://test-artifacts/root"
    assert recurring.headers["cookie"] == "authservice_session=abc"


def test_a_second_submit_of_the_same_spec_reuses_its_version(compiled,
                                                             recorder):
    for _ in range(2):
        result = invoke("submit", "--package", str(compiled.path),
                        "--host", recorder.url)
        assert result.exit_code == 0, result.output
    assert len(recorder.calls("POST", "/pipelines/upload")) == 1
    assert len(recorder.calls("POST", "/pipelines/upload_version")) == 1
    versions = {r.json()["pipeline_version_reference"]["pipeline_version_id"]
                for r in recorder.calls("POST", "/runs")}
    assert versions == {"pipeline-1-v2"}


def test_a_team_namespace_finds_its_own_pipeline_again(compiled,
                                                      isolated_kfp_context):
    """Multi-user KFP lists one namespace at a time; a lookup without it
    misses the team's pipeline and the second upload is refused (409)."""
    with KfpApiRecorder(multi_user=True) as server:
        for _ in range(2):
            result = invoke("submit", "--package", str(compiled.path),
                            "--host", server.url, "--namespace", "team-vision")
            assert result.exit_code == 0, result.output
        assert len(server.calls("POST", "/pipelines/upload")) == 1
        lookups = server.calls("GET", "/pipelines")
        assert lookups and all(r.query["namespace"] == ["team-vision"]
                               for r in lookups)
        assert len(server.calls("POST", "/runs")) == 2


def _schedule(server, *extra):
    return invoke("schedule", "--package", str(server.package), "--host",
                  server.url, "--namespace", "team-vision", *extra)


@pytest.fixture()
def team_server(compiled, isolated_kfp_context):
    with KfpApiRecorder(multi_user=True) as server:
        server.package = compiled.path
        yield server


def test_scheduling_twice_keeps_one_recurring_run(team_server):
    first = _schedule(team_server, "--cron", "0 0 3 * * 1")
    again = _schedule(team_server, "--cron", "0 0 3 * * 1")
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert "created" in first.output and "unchanged" in again.output
    assert len(team_server.calls("POST", "/recurringruns")) == 1
    # Looked up by name in the namespace, whatever the experiment.
    listing = team_server.calls("GET", "/recurringruns")[-1]
    assert listing.query["namespace"] == ["team-vision"]
    assert "experiment_id" not in listing.query
    assert "imgpipe-retraining" in listing.query["filter"][0]


CRON = ("--cron", "0 0 3 * * 1")


def _edit_stored(**fields):
    def edit(server):
        server.state.recurring_runs[0].update(fields)
    return edit


@pytest.mark.parametrize("change, difference", [
    (("--service-account", "other-runner"), "service account"),
    (("--pipeline-root", "gs://other/root"), "pipeline root"),
    (("--experiment", "other"), "experiment 'exp-1' -> 'exp-2'"),
    (("--epochs", "5"), "parameters"),
    (("--data-root", "gs://other/data"), "parameters"),
    (_edit_stored(max_concurrency="3"), "max concurrency 3 -> 1"),
    (_edit_stored(no_catchup=False), "catch-up True -> False"),
    (_edit_stored(mode="DISABLE", status="DISABLED"),
     "enabled False -> True"),
])
def test_every_field_schedule_sets_decides_unchanged(team_server, change,
                                                     difference):
    assert _schedule(team_server, *CRON).exit_code == 0
    if callable(change):                    # changed on the server side
        change(team_server)
        change = ()
    refused = _schedule(team_server, *CRON, *change)
    _assert_one_clear_error(refused, "already exists", difference)
    assert len(team_server.state.recurring_runs) == 1


def test_replace_creates_the_new_run_before_deleting_the_old(team_server):
    assert _schedule(team_server, *CRON).exit_code == 0
    replaced = _schedule(team_server, *CRON, "--experiment", "other",
                         "--replace")
    assert replaced.exit_code == 0, replaced.output
    order = [(r.method, r.path.rsplit("/", 1)[-1]) for r in
             team_server.requests if "/recurringruns" in r.path
             and r.method != "GET"]
    assert order == [("POST", "recurringruns"), ("POST", "recurringruns"),
                     ("DELETE", "recurring-1")]
    remaining, = team_server.state.recurring_runs
    assert remaining["experiment_id"] == "exp-2"


def test_a_failed_create_keeps_the_old_schedule(team_server):
    assert _schedule(team_server, *CRON).exit_code == 0
    team_server.state.failing.add(("POST", "/recurringruns"))
    failed = _schedule(team_server, "--cron", "0 30 4 * * *", "--replace")
    assert failed.exit_code != 0
    assert not [r for r in team_server.requests if r.method == "DELETE"]
    kept, = team_server.state.recurring_runs
    assert kept["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * 1"


def test_a_failed_delete_names_both_schedules(team_server):
    assert _schedule(team_server, *CRON).exit_code == 0
    team_server.state.failing.add(("DELETE", "/recurringruns/recurring-1"))
    failed = _schedule(team_server, "--cron", "0 30 4 * * *", "--replace")
    _assert_one_clear_error(failed, "recurring-2 is in place",
                            "recurring-1 failed", "--replace")
    team_server.state.failing.clear()
    again = _schedule(team_server, "--cron", "0 30 4 * * *", "--replace")
    assert again.exit_code == 0 and "replaced" in again.output
    kept, = team_server.state.recurring_runs
    assert kept["recurring_run_id"] == "recurring-2"


def test_a_changed_schedule_is_refused_unless_replaced(team_server):
    assert _schedule(team_server, "--cron", "0 0 3 * * 1").exit_code == 0
    refused = _schedule(team_server, "--cron", "0 30 4 * * *")
    _assert_one_clear_error(refused, "already exists", "'0 0 3 * * 1' -> "
                            "'0 30 4 * * *'", "--replace")
    assert len(team_server.calls("POST", "/recurringruns")) == 1

    replaced = _schedule(team_server, "--cron", "0 30 4 * * *", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "replaced" in replaced.output
    deleted, = [r for r in team_server.requests if r.method == "DELETE"]
    assert deleted.path.endswith("/recurringruns/recurring-1")
    remaining, = team_server.state.recurring_runs
    assert remaining["trigger"]["cron_schedule"]["cron"] == "0 30 4 * * *"


def test_an_older_backend_is_refused_before_any_upload(compiled,
                                                       isolated_kfp_context):
    with KfpApiRecorder(tag_name="2.0.5") as server:
        result = invoke("submit", "--package", str(compiled.path),
                        "--host", server.url)
        _assert_one_clear_error(result, "version 2.0.5", "KFP >= 2.1.0",
                                "tolerations", "--allow-old-backend")
        assert not server.calls("POST", "/pipelines/upload")

        forced = invoke("submit", "--package", str(compiled.path),
                        "--host", server.url, "--allow-old-backend")
        assert forced.exit_code == 0, forced.output
        assert "Warning:" in forced.output
        assert server.calls("POST", "/runs")


def test_kubeflow_1_9s_backend_runs_it_with_a_warning(compiled,
                                                      isolated_kfp_context):
    with KfpApiRecorder(tag_name="2.2.0") as server:
        result = invoke("submit", "--package", str(compiled.path),
                        "--host", server.url)
        assert result.exit_code == 0, result.output
        assert "ignores retries" in " ".join(result.output.split())
        assert server.calls("POST", "/runs")


def test_in_a_pod_the_service_account_token_is_sent(
        compiled, recorder, tmp_path, monkeypatch):
    """Kubeflow 1.9+ (oauth2-proxy, then Istio and the API server's
    TokenReview) accepts a pod's projected service-account token as a
    bearer token; the kubelet rotates the file, so it is read per request."""
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token_file))
    monkeypatch.delenv("KFP_TOKEN", raising=False)
    first = invoke("submit", "--package", str(compiled.path),
                   "--host", recorder.url)
    assert first.exit_code == 0, first.output
    sent = len(recorder.requests)
    token_file.write_text("rotated-token\n")
    second = invoke("submit", "--package", str(compiled.path),
                    "--host", recorder.url)
    assert second.exit_code == 0, second.output
    assert [r.headers.get("authorization") for r in recorder.requests] == \
        ["Bearer first-token"] * sent + \
        ["Bearer rotated-token"] * (len(recorder.requests) - sent)
    assert len(recorder.requests) > sent


def test_a_backend_without_a_version_gets_a_warning(compiled,
                                                    isolated_kfp_context):
    with KfpApiRecorder(tag_name="unknown") as server:
        result = invoke("submit", "--package", str(compiled.path),
                        "--host", server.url)
    assert result.exit_code == 0, result.output
    assert "does not report its version" in " ".join(result.output.split())


def _assert_one_clear_error(result, *phrases):
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert text.startswith("Error:"), text
    assert "Traceback" not in text
    for phrase in phrases:
        assert phrase in text, text


def test_refused_credentials_say_what_to_pass(compiled, isolated_kfp_context):
    with KfpApiRecorder(refuse_with=401) as server:
        result = invoke("submit", "--package", str(compiled.path),
                        "--host", server.url, "--namespace", "team-vision")
    _assert_one_clear_error(result, "HTTP 401", "--token", "--cookies")


def test_unreachable_endpoint_says_how_to_reach_it(compiled,
                                                   isolated_kfp_context):
    with KfpApiRecorder() as server:
        url = server.url            # a port that is free once it stops
    result = invoke("submit", "--package", str(compiled.path), "--host", url)
    _assert_one_clear_error(result, "Cannot reach Kubeflow Pipelines", url,
                            "port-forward")


@pytest.mark.parametrize("args, phrases", [
    (["schedule", "--cron", "0 3 * * 1"], ["5 fields", "'0 0 3 * * 1'"]),
    (["submit", "--package", "missing.yaml"], ["does not exist",
                                               "kubeflow compile"]),
])
def test_input_mistakes_fail_before_any_request(args, phrases, recorder):
    result = invoke(*args, "--host", recorder.url)
    _assert_one_clear_error(result, *phrases)
    assert result.exit_code == 2
    assert recorder.requests == []
