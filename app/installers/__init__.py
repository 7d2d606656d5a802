"""Declarative installer: each playbook's portal schema as data → a pure plan → apply.

    desired = desired.build(["metal", "eshop"])          # merged playbook data (pure)
    snap = current.read(client, desired, known)          # a few batch calls
    p = plan.plan(desired, snap, known, base_url, specs) # pure diff: steps, matches, conflicts
    apply.apply(session, client, member_id, desired, base_url, specs)  # converge + record
    mapping.resolve(session, member_id)                  # stable codes → this portal's ids

``run.install_playbooks`` is the install job's entry point; ``uninstall.remove_owned``
removes only what the app created. The store table ``schema_objects`` remembers, per
portal, which real object each stable code became and whether the app created it.
"""
