"""The survey link of a deal, for the survey rule (a gather provider: rules cannot sign).

``ctx.related[NPS_LINK]`` is ``{"url", "expires"}`` — ``<APP_BASE_URL>/nps/<token>`` valid
``nps_link_days`` days from now — or None when the portal has no application token to sign
with (then nothing is sent: an unsigned link would be forgeable). Read-only: the link is
made from the token, nothing is stored until the client answers.
"""

from __future__ import annotations

import time
from typing import Any

from app.nps.token import issue
from app.sync.gather import GatherEnv, provider

NPS_LINK = "b2b.nps_link"
DAY = 86400


def survey_url(base_url: str, token: str) -> str:
    return f"{str(base_url).rstrip('/')}/nps/{token}"


@provider(NPS_LINK)
def nps_link(env: GatherEnv) -> dict[str, Any] | None:
    from app.playbooks.settings import effective
    from app.services import current
    from app.store import installations

    row = installations.get(env.session, env.member_id)
    if row is None or not row.application_token:
        return None
    days = float(effective(env.session, env.member_id, "b2b").get("nps_link_days") or 14)
    expires = int(time.time() + days * DAY)
    token = issue(row.application_token, env.member_id, env.record_id, expires)
    return {"url": survey_url(current().settings.app_base_url, token), "expires": expires}
