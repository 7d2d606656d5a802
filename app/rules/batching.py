"""Send a list of :class:`~app.rules.commands.Command` through the gateway in batches of 50.

An action's commands never straddle two batches. A ``$result[label][...]`` placeholder that
points into an earlier batch is substituted here with the value that batch returned, so
chaining works across the 50-command boundary too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.portal.errors import NotFound, PortalError
from app.rules.commands import Command

BATCH_LIMIT = 50
_PLACEHOLDER = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]+\])*)")


def chunks(commands: Sequence[Command], limit: int = BATCH_LIMIT) -> list[list[Command]]:
    """Split into batches of at most ``limit`` commands, keeping each action's together."""
    out: list[list[Command]] = []
    current: list[Command] = []
    group: list[Command] = []
    for cmd in list(commands) + [None]:  # type: ignore[list-item]
        if group and (cmd is None or cmd.index != group[0].index):
            if current and len(current) + len(group) > limit:
                out.append(current)
                current = []
            current.extend(group)
            group = []
        if cmd is not None:
            group.append(cmd)
    if current:
        out.append(current)
    return out


def _resolve(value: Any, done: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and "$result[" in value:
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in done:
            return _walk(done[whole.group(1)], whole.group(2))

        def sub(m: re.Match) -> str:
            if m.group(1) not in done:
                return m.group(0)  # same batch: the portal substitutes it
            return str(_walk(done[m.group(1)], m.group(2)))

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, Mapping):
        return {k: _resolve(v, done) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve(v, done) for v in value]
    return value


def _walk(value: Any, path: str) -> Any:
    for part in re.findall(r"\[([^\]]+)\]", path):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def send_commands(client: Any, commands: Sequence[Command]) -> dict[str, tuple[bool, Any]]:
    """``{label: (True, result) | (False, "CODE: description")}`` for every command sent.

    A portal-level failure of a whole batch (rate limit, token, transport) propagates as the
    gateway's :class:`PortalError` so the job fails and RQ retries it."""
    done: dict[str, Any] = {}
    out: dict[str, tuple[bool, Any]] = {}
    for n, batch in enumerate(chunks(commands)):
        cmd = {c.label: (c.method, _resolve(dict(c.params), done)) for c in batch}
        try:
            results, errors = run_batch(client, cmd)
        except Exception as exc:
            if n:  # earlier chunks ran: a whole-batch refusal now is not "nothing happened"
                exc.partially_applied = True  # type: ignore[attr-defined]
            raise
        for c in batch:
            if c.label in errors:
                out[c.label] = (False, errors[c.label])
            elif c.label in results:
                done[c.label] = results[c.label]
                out[c.label] = (True, results[c.label])
            else:
                out[c.label] = (False, "no result (batch halted?)")
    return out


class CommandError(str):
    """A failed command's ``"CODE: description"``; ``not_found`` tells a missing record."""

    not_found: bool = False

    @classmethod
    def of(cls, code: Any, description: Any, not_found: bool) -> CommandError:
        err = cls(f"{code or ''}: {description or ''}")
        err.not_found = not_found
        return err


def run_batch(
    client: Any, cmd: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> tuple[dict, dict[str, CommandError]]:
    """One ``batch`` through the gateway → (results by label, errors by label)."""
    reply = client.batch(dict(cmd), halt=False)
    results = _get(reply, "results") or _get(reply, "result") or {}
    raw_errors = _get(reply, "errors") or _get(reply, "result_error") or {}
    errors: dict[str, CommandError] = {}
    for label, err in dict(raw_errors).items():
        if isinstance(err, PortalError):
            errors[label] = CommandError.of(err.code, err.description, isinstance(err, NotFound))
        elif isinstance(err, Mapping):
            code, text = err.get("error", ""), err.get("error_description", "")
            missing = code == "NOT_FOUND" or "not found" in str(text).lower()
            errors[label] = CommandError.of(code, text, missing)
        else:
            errors[label] = CommandError.of("", err, False)
    return dict(results) if isinstance(results, Mapping) else {}, errors


def _get(reply: Any, name: str) -> Any:
    if isinstance(reply, Mapping):
        return reply.get(name)
    return getattr(reply, name, None)
