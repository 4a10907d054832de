"""The deploy files are checked statically (no Docker engine or AWS here): the crontab runs each
job at its intended frequency through a make target that exists; the ECS task definitions and
EventBridge rules run the same targets and carry no secret inline; the image's entry point is make.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from harness.services import ROOT

DEPLOY = ROOT / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE", re.I)
CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*):(?!=)", text, re.M))


def cron_values(field: str, low: int, high: int) -> set[int]:
    """Expand one crontab field (``*``, ``a-b``, ``*/n``, ``a-b/n``, lists) into its values."""
    values: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        assert match, f"invalid crontab field {field!r}"
        span, step = match.group(1), int(match.group(2) or 1)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (int(x) for x in span.split("-"))
        else:
            first = last = int(span)
            if match.group(2):
                last = high
        assert low <= first <= last <= high and step >= 1, f"out of range: {field!r}"
        values.update(range(first, last + 1, step))
    return values


def crontab_entries() -> list[tuple[list[str], str]]:
    entries = []
    for line in (DEPLOY / "crontab").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"a crontab line needs 5 time fields and a command: {line!r}"
        entries.append((fields[:5], fields[5]))
    return entries


def runs_per_day(fields: list[str]) -> int:
    assert fields[2:] == ["*", "*", "*"], "only daily patterns are expected"
    minutes = cron_values(fields[0], 0, 59)
    hours = cron_values(fields[1], 0, 23)
    return len(minutes) * len(hours)


def test_every_crontab_line_is_valid_and_calls_existing_make_targets():
    targets = make_targets()
    entries = crontab_entries()
    assert entries
    for fields, command in entries:
        for value, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
            assert cron_values(value, low, high), f"{name} field {value!r} matches nothing"
        called = re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z][\w-]*)", command)
        assert called, f"crontab entry does not call make: {command!r}"
        assert set(called) <= targets, f"unknown make target in {command!r}"
        assert "flock" not in command  # the jobs take their own locks
        assert ">>" in command and "2>&1" in command  # JSON lines and errors land in a log
        syntax = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)
        assert syntax.returncode == 0, f"{command!r}: {syntax.stderr}"


def test_crontab_runs_each_job_at_its_frequency():
    per_day: dict[str, int] = {}
    order: dict[str, str] = {}
    for fields, command in crontab_entries():
        for target in re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z][\w-]*)", command):
            per_day[target] = per_day.get(target, 0) + runs_per_day(fields)
            order[target] = command
    assert per_day["ingest"] == 24 * 60  # every minute
    assert 24 * 6 <= per_day["transform"] <= 24 * 30  # every few minutes
    assert per_day["alerts"] == per_day["transform"]
    alerts_line = order["alerts"]
    assert alerts_line.index("make -s transform") < alerts_line.index("make -s alerts")
    assert per_day["reports"] == per_day["transform"]  # the site follows every transform
    assert order["reports"].index("make -s transform") < order["reports"].index("make -s reports")
    assert per_day["archive"] == 1  # daily
    assert per_day["digest"] == 1
    assert per_day["ops-check"] >= 24


def test_cron_field_expansion():
    assert cron_values("*/15", 0, 59) == {0, 15, 30, 45}
    assert cron_values("3-58/15", 0, 59) == {3, 18, 33, 48}
    assert cron_values("1,2,10-12", 0, 59) == {1, 2, 10, 11, 12}
    with pytest.raises(AssertionError):
        cron_values("61", 0, 59)


def task_definitions() -> dict[str, dict]:
    return {
        json.loads(path.read_text())["family"]: json.loads(path.read_text())
        for path in sorted((DEPLOY / "ecs").glob("task-*.json"))
    }


def test_ecs_task_definitions_run_make_targets_with_secrets_by_reference():
    targets = make_targets()
    tasks = task_definitions()
    assert {"lnhm-ingest", "lnhm-transform", "lnhm-alerts", "lnhm-reports", "lnhm-archive"} <= set(
        tasks
    )
    for family, task in tasks.items():
        assert task["requiresCompatibilities"] == ["FARGATE"]
        [container] = task["containerDefinitions"]
        assert "entryPoint" not in container, "the image's entry point (make) must stay"
        assert set(container["command"]) <= targets, family
        env = {item["name"]: item["value"] for item in container["environment"]}
        assert not [name for name in env if SECRET_NAME.search(name)], f"{family}: inline secret"
        assert env["LNHM_WAREHOUSE"] == "postgres"
        assert env["PGUSER"].startswith("lnhm_")  # a role from deploy/postgres/roles.sql
        secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
        assert "PGPASSWORD" in secrets
        for name, ref in secrets.items():
            assert ref.startswith("arn:aws:secretsmanager:"), f"{family}: {name} not a reference"
        assert container["logConfiguration"]["logDriver"] == "awslogs"


def test_roles_in_task_definitions_exist_in_roles_sql():
    roles_sql = (DEPLOY / "postgres" / "roles.sql").read_text()
    for task in task_definitions().values():
        [container] = task["containerDefinitions"]
        role = {e["name"]: e["value"] for e in container["environment"]}["PGUSER"]
        assert f"'{role}'" in roles_sql


def test_eventbridge_rules_run_the_same_targets_as_cron():
    targets = make_targets()
    tasks = task_definitions()
    rules = json.loads((DEPLOY / "ecs" / "schedules.json").read_text())
    scheduled: set[str] = set()
    for rule in rules:
        expression = rule["Rule"]["ScheduleExpression"]
        assert re.fullmatch(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)", expression) or (
            re.fullmatch(r"cron\((\S+ ){5}\S+\)", expression)
        ), expression
        for target in rule["Targets"]:
            family = target["EcsParameters"]["TaskDefinitionArn"].rsplit("/", 1)[1]
            assert family in tasks, family
            container = tasks[family]["containerDefinitions"][0]["name"]
            [override] = json.loads(target["Input"])["containerOverrides"]
            assert override["name"] == container
            assert set(override["command"]) <= targets
            scheduled.update(override["command"])
    cron_targets = {
        target
        for _, command in crontab_entries()
        for target in re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z][\w-]*)", command)
    }
    assert scheduled == cron_targets


def test_dockerfile_installs_the_project_and_enters_make():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r'^ENTRYPOINT \["make"\]$', text, re.M)
    assert "pip install -e ." in text or "pip install ." in text
    assert "touch .venv/.installed" in text  # make must not reinstall at run time
    for line in re.findall(r"^(?:ENV|ARG) .*$", text, re.M):
        assert not SECRET_NAME.search(line), line
    assert "make" in re.search(r"apt-get install[^\n]*", text).group(0)


def _filled(path: Path) -> dict | list:
    """The file with its ${PLACEHOLDERS} filled as envsubst would."""
    fake = {
        "AWS_ACCOUNT_ID": "123456789012",
        "AWS_REGION": "eu-west-2",
        "OPERATOR_EMAIL": "data-team@example.org",
        "MAIL_DOMAIN": "example.org",
        "STORE_CAPACITY_BYTES": "107374182400",
    }
    text = re.sub(
        r"\$\{(\w+)\}",
        lambda m: fake.get(m.group(1), f"x-{m.group(1).lower().replace('_', '-')}"),
        path.read_text(),
    )
    return json.loads(text)


def test_ecs_files_match_the_aws_api_shapes():
    """Validate against botocore's own models of RegisterTaskDefinition, PutRule, PutTargets."""
    import botocore.session
    from botocore.validate import validate_parameters

    session = botocore.session.get_session()
    ecs, events = session.get_service_model("ecs"), session.get_service_model("events")
    for path in sorted((DEPLOY / "ecs").glob("task-*.json")):
        shape = ecs.operation_model("RegisterTaskDefinition").input_shape
        validate_parameters(_filled(path), shape)
    for rule in _filled(DEPLOY / "ecs" / "schedules.json"):
        validate_parameters(rule["Rule"], events.operation_model("PutRule").input_shape)
        validate_parameters(
            {"Rule": rule["Rule"]["Name"], "Targets": rule["Targets"]},
            events.operation_model("PutTargets").input_shape,
        )


def _container(task: dict) -> dict:
    [container] = task["containerDefinitions"]
    return container


def _filled_tasks() -> dict[str, dict]:
    return {
        task["family"]: task
        for task in (_filled(path) for path in sorted((DEPLOY / "ecs").glob("task-*.json")))
    }


def test_every_task_environment_is_a_valid_configuration():
    """What ECS passes in is checked by the jobs' own settings (placeholders filled)."""
    from lnhm.settings import from_env

    for family, task in _filled_tasks().items():
        env = {item["name"]: item["value"] for item in _container(task)["environment"]}
        env.update({item["name"]: "from-secrets-manager" for item in _container(task)["secrets"]})
        settings = from_env(env)
        assert settings.warehouse == "postgres", family
        assert settings.archive_is_s3, family


def _efs_mounts(task: dict) -> dict[str, dict]:
    """containerPath -> the EFS volume mounted there."""
    volumes = {volume["name"]: volume for volume in task.get("volumes", [])}
    mounts = {}
    for mount in _container(task).get("mountPoints", []):
        volume = volumes[mount["sourceVolume"]]  # every mount names a declared volume
        assert "efsVolumeConfiguration" in volume, volume
        assert volume["efsVolumeConfiguration"]["transitEncryption"] == "ENABLED"
        assert mount["readOnly"] is False
        mounts[mount["containerPath"]] = volume
    return mounts


def test_ingest_keeps_dlt_state_and_queued_packages_on_efs():
    """Issue 10, defect 8: dlt's folder lived in the container and went with it."""
    task = task_definitions()["lnhm-ingest"]
    env = {item["name"]: item["value"] for item in _container(task)["environment"]}
    assert env["DLT_DATA_DIR"] in _efs_mounts(task)


def test_reports_publish_into_the_efs_mount_itself():
    task = task_definitions()["lnhm-reports"]
    env = {item["name"]: item["value"] for item in _container(task)["environment"]}
    assert env["LNHM_REPORTS_DIR"] in _efs_mounts(task)  # reports/publish.py never renames it


def test_no_other_task_writes_state_to_its_container():
    for family, task in task_definitions().items():
        env = {item["name"]: item["value"] for item in _container(task)["environment"]}
        assert env["LNHM_WAREHOUSE"] == "postgres", family  # no DuckDB file in a container
        if family != "lnhm-ingest":
            assert "DLT_DATA_DIR" not in env, family  # only ingest runs dlt


def test_scheduled_targets_turn_a_skip_into_success():
    """Each target cron and ECS run goes through the Makefile's job macro (75 -> 0)."""
    text = (ROOT / "Makefile").read_text()
    scheduled = {
        target
        for _, command in crontab_entries()
        for target in re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z][\w-]*)", command)
    }
    for target in scheduled:
        recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.M)
        assert recipe, target
        assert "$(call job," in recipe.group(1), target
