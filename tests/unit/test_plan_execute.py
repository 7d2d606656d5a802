"""apply's write step on a scripted client: "already exists" answers are successes."""

from app.installers.apply import execute
from app.installers.plan_model import Step
from app.store.schema_objects import Known


class ScriptedClient:
    """Answers each command by method from a script: a result, or an error dict."""

    def __init__(self, script):
        self.script, self.sent = script, []

    def batch(self, cmd, halt=False):
        self.sent.append([m for m, _ in cmd.values()])
        results, errors = {}, {}
        for key, (method, _) in cmd.items():
            answer = self.script[method]
            (errors if isinstance(answer, dict) and "error" in answer else results)[key] = answer
        return {"result": results, "result_error": errors}


def _robot_step():
    update = ("bizproc.robot.update", {"CODE": "r", "FIELDS": {"NAME": "R"}})
    return Step("robot", "add", "r", "r", "bizproc.robot.add", {"CODE": "r"},
                record=Known("robot", "r", "r", "r", True), on_exists=update)  # fmt: skip


def _event_step():
    return Step("event", "add", "E|h", "E", "event.bind", {"event": "E"},
                record=Known("event", "E|h", None, "E", True), on_exists=("", {}))  # fmt: skip


def test_robot_already_installed_is_updated_and_recorded():
    client = ScriptedClient({
        "bizproc.robot.add": {"error": "ERROR_ACTIVITY_ALREADY_INSTALLED",
                              "error_description": "Activity or Robot already installed!"},
        "bizproc.robot.update": True,
    })  # fmt: skip
    records, failures, requests = execute(client, [_robot_step()])
    assert client.sent == [["bizproc.robot.add"], ["bizproc.robot.update"]]
    assert [r.code for r in records] == ["r"] and failures == [] and requests == 2


def test_event_already_bound_in_either_spelling_is_success_without_retry():
    for error in (
        {"error": "ERROR_HANDLER_ALREADY_EXIST", "error_description": "Handler already exists!"},
        {"error": "ERROR_CORE", "error_description": "Unable to set event handler: duplicate"},
    ):
        client = ScriptedClient({"event.bind": error})
        records, failures, _ = execute(client, [_event_step()])
        assert client.sent == [["event.bind"]]
        assert [r.code for r in records] == ["E|h"] and failures == []


def test_other_errors_are_failures_and_nothing_is_recorded_for_them():
    client = ScriptedClient({
        "event.bind": {"error": "ERROR_EVENT_NOT_FOUND", "error_description": "Event not found"},
        "bizproc.robot.add": True,
    })  # fmt: skip
    records, failures, _ = execute(client, [_event_step(), _robot_step()])
    assert [r.code for r in records] == ["r"]
    assert [(s.code, e.code) for s, e in failures] == [("E|h", "ERROR_EVENT_NOT_FOUND")]
