"""A robot call as the portal posts it (protocol §6.2), parsed at the edge.

:class:`RobotCallSchema` (marshmallow) validates the nested bracket form; :class:`RobotCall`
is the frozen, plain-valued result that travels as the ``run_robot`` job argument — without
``auth[...]``: the job answers with the installation's own tokens, so no token from the POST
is stored or queued (only the ``event_token``, which the answer needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.sync.intake import AuthSchema

_TOKEN = validate.Regexp(r"^[\x21-\x7e]{1,400}$")  # printable ASCII, as the portal mints it
_PROPERTY = fields.Raw()  # a string, or a list of strings for a multiple property


class _AuthSchema(AuthSchema):
    user_id = fields.String(load_default=None, validate=validate.Regexp(r"^\d{0,12}$"))


class RobotCallSchema(Schema):
    """The robot handler's POST; unknown keys are ignored."""

    class Meta:
        unknown = EXCLUDE

    workflow_id = fields.String(load_default="", validate=validate.Length(max=64))
    code = fields.String(load_default=None, validate=validate.Length(max=64))
    document_id = fields.List(fields.String(validate=validate.Length(max=200)), required=True)
    document_type = fields.List(fields.String(validate=validate.Length(max=200)), load_default=[])
    event_token = fields.String(required=True, validate=_TOKEN)
    properties = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), values=_PROPERTY,
                             load_default=dict)  # fmt: skip
    use_subscription = fields.String(load_default="Y", validate=validate.OneOf(["Y", "N", ""]))
    timeout_duration = fields.Integer(load_default=0, validate=validate.Range(min=0))
    ts = fields.Integer(load_default=None, validate=validate.Range(min=0))
    auth = fields.Nested(_AuthSchema, required=True)

    @validates_schema
    def _shapes(self, data: Mapping[str, Any], **_: Any) -> None:
        if len(data.get("document_id") or []) != 3:
            raise ValidationError("document_id must have 3 parts", "document_id")
        for key, value in (data.get("properties") or {}).items():
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) and len(v) <= 10_000 for v in items):
                raise ValidationError(f"property {key} must be text", "properties")


@dataclass(frozen=True)
class RobotCall:
    member_id: str
    code: str
    event_token: str
    document_id: tuple[str, ...]
    document_type: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)
    wait_answer: bool = True  # use_subscription=Y: the workflow waits for bizproc.event.send
    timeout_s: int = 0  # 0 = the portal waits without limit
    ts: int | None = None  # when the portal posted the call (unix seconds)
    workflow_id: str = ""
    user_id: int | None = None

    @property
    def deadline(self) -> datetime | None:
        """When the portal stops waiting for the answer, or None."""
        if not self.wait_answer or self.timeout_s <= 0 or self.ts is None:
            return None
        return datetime.fromtimestamp(self.ts, UTC) + timedelta(seconds=self.timeout_s)

    def to_job(self) -> dict[str, Any]:
        """Plain JSON values for the job queue."""
        out = asdict(self)
        out["document_id"] = list(self.document_id)
        out["document_type"] = list(self.document_type)
        out["properties"] = dict(self.properties)
        return out

    @classmethod
    def from_job(cls, data: Mapping[str, Any]) -> RobotCall:
        values = dict(data)
        values["document_id"] = tuple(values.get("document_id") or ())
        values["document_type"] = tuple(values.get("document_type") or ())
        return cls(**values)


def load_call(code: str, form: Mapping[str, Any]) -> RobotCall:
    """Validate a parsed form into a RobotCall for robot ``code`` (from the URL). Raises
    ValidationError, also when the form names another robot."""
    data = RobotCallSchema().load(dict(form))
    if data["code"] and data["code"].lower() != code.lower():
        raise ValidationError(f"code {data['code']!r} does not match the URL", "code")
    auth = data["auth"]
    return RobotCall(
        member_id=auth["member_id"],
        code=code.lower(),
        event_token=data["event_token"],
        document_id=tuple(data["document_id"]),
        document_type=tuple(data["document_type"]),
        properties=data["properties"],
        wait_answer=data["use_subscription"] != "N",
        timeout_s=data["timeout_duration"],
        ts=data["ts"],
        workflow_id=data["workflow_id"],
        user_id=int(auth["user_id"]) if auth.get("user_id") else None,
    )
