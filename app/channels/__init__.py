"""Messages to clients and staff chats: the outbox, channel adapters and the send job.

A rule returns ``MessageClient(channel, record, subject, text, template=…)``. Applying it
(``app.rules.apply``) records one outbox row (``app.store.outbox``), keyed by the action's
idempotency key, and enqueues :func:`app.channels.jobs.send_message`. The job gathers the
record, its client and the portal's channels (:mod:`app.channels.gather`), decides the
channel, recipient and text (:mod:`app.channels.plan`, pure), claims the row and sends
through one adapter (:mod:`app.channels.adapters`):

* ``email``     — ``crm.activity.add`` e-mail activity (TYPE_ID 4, DIRECTION 2, COMPLETED Y):
  the portal sends it and the manager sees it in the card
  (``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md``);
* ``messenger`` — ``imopenlines.crm.message.add`` into the client's open-line chat found with
  ``imopenlines.crm.chat.get`` (``api-reference/imopenlines/openlines/...``);
* ``sms``       — an SMS gateway (SMS.ru HTTP API, :mod:`app.channels.smsru`), then the
  message is recorded on the record as an app activity (``PROVIDER_ID=REST_APP``): the
  portal offers a REST app no way to send an SMS (``messageservice.*`` is for providers).

Staff chat messages are the ``ChatMessage`` action (``im.message.add``), sent in the rule's
batch like a notification.
"""
