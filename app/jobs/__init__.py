"""RQ jobs: verbs with plain-value arguments (``install_portal(member_id)``)."""
