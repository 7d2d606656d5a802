"""The b2b satisfaction survey (seed 003: «после первого заказа покупателям приходил опрос»).

* ``token`` — the signed, expiring link (pure);
* ``link`` — the gather provider that hands the survey rule the link of a deal;
* ``page`` — the survey page's HTML (a phone-sized form, no Bitrix24 login);
* ``app.handlers.nps`` serves it; ``app.jobs.nps.record_nps`` writes the answers to the deal
  and the contact and asks the manager's head to handle a low score;
* ``requeue`` — the clock's sweep re-queuing answers whose job never ran (Redis down).
"""
